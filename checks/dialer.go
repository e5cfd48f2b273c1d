package checks

import (
	"context"
	"net"
)

// Dialer opens connections. *net.Dialer is one; tests and the lab inject their own.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}
