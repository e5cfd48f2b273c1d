package moto

import (
	"context"
	"errors"
	"testing"
)

// StartT starts a server for the test and closes it when the test ends. A missing moto_server
// fails the test with the install command: tests never skip for want of a tool.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background())
	if errors.Is(err, ErrNotFound) {
		t.Fatalf("%v", err)
	}
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
