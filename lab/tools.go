package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// tools are the programs the lab runs, with the Debian package that has each.
var tools = []struct{ program, pkg string }{
	{"ip", "iproute2"},
	{"iptables-restore", "iptables"},
	{"ip6tables-restore", "iptables"},
}

// EnsureTools makes sure ip and iptables are installed. What is missing is installed with
// apt-get when the process is root on a machine that has it — a fresh machine then runs the lab
// and its tests with no setup — and otherwise named in the error with the command to run.
// It says on w what it installs.
func EnsureTools(ctx context.Context, w io.Writer) error {
	var missing []string
	for _, t := range tools {
		if _, err := exec.LookPath(t.program); err != nil {
			missing = append(missing, t.pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	install := "apt-get install -y " + strings.Join(missing, " ")
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return fmt.Errorf("lab: needs %s: run sudo %s", strings.Join(missing, " and "), install)
	}
	fmt.Fprintf(w, "vpclab: installing %s with apt-get (the lab needs them)\n", strings.Join(missing, " "))
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("lab: apt-get %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}
