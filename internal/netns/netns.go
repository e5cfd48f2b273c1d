// Package netns holds the Linux network-namespace primitives vpclab and the image tests build on:
// create and delete named namespaces (the ones `ip netns` manages under /run/netns), join two of
// them with a veth pair, run a command inside one, and open Go sockets inside one.
//
// Everything here works on named namespaces only and never touches the root namespace's
// interfaces, addresses or routes: a veth pair is created from inside its first namespace and its
// peer is moved straight into the second, so it never appears on the host. All of it needs root
// or CAP_NET_ADMIN (and CAP_SYS_ADMIN for `ip netns add`); Check says so in one line.
package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Dir is where `ip netns` keeps the bind mounts that name namespaces.
const Dir = "/run/netns"

// ConfDir is where `ip netns exec` finds per-namespace files it bind-mounts over /etc
// (resolv.conf, hosts): /etc/netns/<name>/<file>.
const ConfDir = "/etc/netns"

// ErrPrivilege is returned by Check when the process cannot manage network namespaces.
var ErrPrivilege = errors.New("network namespaces need root (or CAP_NET_ADMIN and CAP_SYS_ADMIN)")

// Check reports whether this process may create namespaces and configure them, and whether the
// ip command is installed. It changes nothing.
func Check() error {
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("netns: the ip command (iproute2) is not installed: %w", err)
	}
	if os.Geteuid() == 0 {
		return nil
	}
	// Not root: look for CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21) in the effective set.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return ErrPrivilege
	}
	const netAdmin, sysAdmin = 12, 21
	if data[0].Effective&(1<<netAdmin) == 0 || data[0].Effective&(1<<sysAdmin) == 0 {
		return ErrPrivilege
	}
	return nil
}

// validName rejects names `ip netns` would refuse or that would escape Dir.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("netns: invalid namespace name %q", name)
	}
	return nil
}

// ip runs the ip command with args and returns its error with stderr attached.
func ip(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.SysProcAttr = detached()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("netns: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// detached puts a helper command in its own process group: Ctrl-C at the terminal goes to the
// program, which then cleans up with more ip commands, instead of killing a half-done step.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// Create makes the named namespace and brings its loopback up, so servers bound to 127.0.0.1
// inside it work.
func Create(ctx context.Context, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	if err := ip(ctx, "netns", "add", name); err != nil {
		return err
	}
	return ip(ctx, "-n", name, "link", "set", "lo", "up")
}

// Delete removes the named namespace and its /etc/netns/<name> directory. Interfaces inside it
// (veth ends included, and with them their peers) go with it. A namespace that does not exist is
// not an error, so Delete is safe in cleanups that may run twice.
func Delete(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	var errs []error
	if _, err := os.Stat(filepath.Join(Dir, name)); err == nil {
		// A background context: a cleanup must finish even when the run's context is cancelled.
		// Another process cleaning leftovers may delete the same namespace between the Stat and
		// the delete: a namespace that is gone afterwards is deleted, whoever did it.
		if err := ip(context.Background(), "netns", "delete", name); err != nil {
			if _, serr := os.Stat(filepath.Join(Dir, name)); !errors.Is(serr, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(filepath.Join(ConfDir, name)); err != nil {
		errs = append(errs, fmt.Errorf("netns: %w", err))
	}
	return errors.Join(errs...)
}

// List returns the names of existing namespaces that start with prefix, sorted. It also returns
// names that only have a leftover /etc/netns directory, so a cleanup can remove those too.
func List(prefix string) ([]string, error) {
	seen := map[string]bool{}
	for _, dir := range []string{Dir, ConfDir} {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("netns: %w", err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				seen[e.Name()] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Veth joins namespaces nsA and nsB with a veth pair named ifA (in nsA) and ifB (in nsB) and
// sets both ends up. Interface names are at most 15 bytes; they only need to be unique within
// their own namespace.
func Veth(ctx context.Context, nsA, ifA, nsB, ifB string) error {
	// Created inside nsA with the peer placed directly in nsB: neither end ever exists in the
	// root namespace, so two labs using the same interface names cannot collide.
	if err := ip(ctx, "-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", nsB); err != nil {
		return err
	}
	if err := ip(ctx, "-n", nsA, "link", "set", ifA, "up"); err != nil {
		return err
	}
	return ip(ctx, "-n", nsB, "link", "set", ifB, "up")
}

// IP runs `ip -n ns args…`, for addresses, routes and links inside the namespace.
func IP(ctx context.Context, ns string, args ...string) error {
	return ip(ctx, append([]string{"-n", ns}, args...)...)
}

// IPBatch runs many ip commands inside ns in one process (`ip -n ns -batch -`), one command per
// line without the leading "ip": building a topology this way costs one fork, not dozens.
func IPBatch(ctx context.Context, ns string, lines ...string) error {
	if len(lines) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "ip", "-n", ns, "-batch", "-")
	cmd.SysProcAttr = detached()
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("netns: ip -n %s -batch: %w: %s", ns, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// WriteSysctl sets a sysctl of namespace ns, such as "net/ipv4/ip_forward". Network sysctls
// under /proc/sys/net belong to the namespace of the thread that opens them, so the write runs
// inside ns; no sysctl binary is needed.
func WriteSysctl(ns, key, value string) error {
	return Do(ns, func() error {
		if err := os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644); err != nil {
			return fmt.Errorf("netns: sysctl %s in %s: %w", key, ns, err)
		}
		return nil
	})
}

// WriteConf writes /etc/netns/<ns>/<file> (for example "resolv.conf"), which `ip netns exec`
// bind-mounts over /etc/<file> for the commands it runs.
func WriteConf(ns, file string, data []byte) error {
	if err := validName(ns); err != nil {
		return err
	}
	dir := filepath.Join(ConfDir, ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// Command returns a command that runs name with args inside namespace ns through
// `ip netns exec`, which also bind-mounts /etc/netns/<ns>/* over /etc. The caller sets Env,
// Stdout and the rest as for any exec.Cmd.
func Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Run runs name with args inside ns and returns its combined output; a non-zero exit is an
// error carrying that output.
func Run(ctx context.Context, ns, name string, args ...string) ([]byte, error) {
	cmd := Command(ctx, ns, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("netns: %s in %s: %w: %s", name, ns, err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Do runs fn on an OS thread that has joined namespace ns, and waits for it. Sockets fn creates
// belong to ns for their whole life, whichever thread uses them later; that is how Listen works.
// fn must not start goroutines that expect to be in ns: they run on other threads.
func Do(ns string, fn func() error) error {
	if err := validName(ns); err != nil {
		return err
	}
	target, err := unix.Open(filepath.Join(Dir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", ns, err)
	}
	defer unix.Close(target)

	done := make(chan error, 1)
	// A dedicated goroutine, so the caller's thread never changes namespace.
	go func() {
		runtime.LockOSThread()
		// The thread's own namespace, to return to. If returning fails the thread stays locked
		// and Go destroys it when this goroutine ends, so no other goroutine ever runs in ns.
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("netns: current namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netns: enter %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			done <- errors.Join(ferr, fmt.Errorf("netns: leave %s: %w", ns, err))
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}

// Listen opens a stream listener (network "tcp", "tcp4", …) on addr inside namespace ns.
func Listen(ns, network, addr string) (net.Listener, error) {
	var l net.Listener
	err := Do(ns, func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen in %s: %w", ns, err)
	}
	return l, nil
}

// ListenPacket opens a packet socket (network "udp", "udp4", …) on addr inside namespace ns.
func ListenPacket(ns, network, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := Do(ns, func() error {
		var err error
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen in %s: %w", ns, err)
	}
	return pc, nil
}

// Dial connects to addr (an IP literal and port: a host name would be resolved on other threads,
// outside ns) from inside namespace ns. The connect itself runs on the namespace's
// thread, so ctx bounds it there.
func Dial(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := Do(ns, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: dial in %s: %w", ns, err)
	}
	return c, nil
}
