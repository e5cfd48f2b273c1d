// Package probe is one run under deadlines: it runs every check of every service concurrently
// from where the task runs, judges each service (verdict, reason code, diagnosis, remediation)
// and delivers the report.
package probe
