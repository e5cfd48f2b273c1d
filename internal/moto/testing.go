package moto

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Start starts a server for the test and stops it when the test ends. It also cuts the SDK of
// the test process off from the machine, as awstest.StaticCredentials does (this package is used
// outside tests, by vpclab, so it does not import that test kit): instance metadata off, empty
// config and credentials files, the static test credentials and Region in the environment, no
// profile, proxy or global endpoint. Like t.Setenv, it cannot be used in parallel tests.
//
// A missing moto_server fails the test with the install command: tests never skip for want of a
// tool.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Run(context.Background())
	if err != nil {
		t.Fatalf("%v", err) // ErrNotFound's text is the install command
	}
	t.Cleanup(func() { s.Close() })
	isolate(t)
	return s
}

// isolated are the variables through which the SDK would reach the machine's configuration,
// credentials or another endpoint; isolate unsets them for the test.
var isolated = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL",
	"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
}

func isolate(t testing.TB) {
	t.Helper()
	for _, k := range isolated {
		t.Setenv(k, "") // restores the variable when the test ends
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_REGION", Region)
}
