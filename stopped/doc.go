// Package stopped translates what ECS said of a task (its stopped reason, stop code and
// container reasons) into diagnoses in the probe's own terms, with rules as data.
package stopped
