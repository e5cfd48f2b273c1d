package inspect

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vpcprobe/vpcprobe/couldnottest"
)

// TestUnreadableIsUntested: a VPC that cannot be read is "could not test", the sentinel every
// runner shares (exit 3).
func TestUnreadableIsUntested(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("%w: subnets denied: %w", ErrUnreadable, errors.New("UnauthorizedOperation"))
	if !errors.Is(err, ErrUnreadable) || !errors.Is(err, couldnottest.Err) {
		t.Errorf("%v does not match ErrUnreadable and couldnottest.Err", err)
	}
}
