// Package lab is vpclab: a simulated AWS VPC built from Linux network namespaces on one machine,
// in which the real vpcprobe binary runs unchanged, for end-to-end tests and for trying the probe
// without an AWS account.
//
// A lab is three namespaces joined by veth pairs, all named vpclab-<id>-…:
//
//	task (10.0.1.17/24) ── eth0 ═ t0 ── vpc router ── up0 ═ eth0 ── inet (198.51.100.0/24)
//
// The task namespace is the Fargate task: its own resolv.conf, a default route to 10.0.1.1, and
// container credentials on its loopback. The vpc namespace is the VPC router and everything that
// lives at VPC addresses: the endpoint ENIs (10.0.1.5x and 10.0.2.5x), the Amazon-provided resolver
// at 10.0.0.2 and 169.254.169.253, a custom DNS server at 10.0.3.53 and the task metadata endpoint
// at 10.0.255.2; its iptables rules are the route table, security groups and network ACLs. The
// inet namespace holds the "public" AWS front ends, reached only through the NAT path or the S3
// gateway route. Nothing is ever attached to the host's interfaces, and no address or route is
// added in the root namespace.
//
// Behind every endpoint address is a TLS front end with the lab CA serving internal/fakeaws, so
// the probe's DNS, TCP, TLS, HTTP and authenticated checks all see real protocols. A Scenario
// declares one network shape and the report it must produce; Judge compares them.
package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/netns"
)

// Prefix starts the name of every namespace a lab creates; a leftover with this prefix whose
// owner is gone is removed by the next lab.
const Prefix = "vpclab-"

// Lab is one running simulated VPC. Close removes all of it.
type Lab struct {
	ID       string   // short unique id in the namespace names: <owner pid><letter>
	Scenario Scenario // the scenario it was built for
	TaskNS   string   // the namespace the probe runs in
	VPCNS    string   // the VPC router and its services
	InetNS   string   // the "public" AWS front ends
	Dir      string   // files of this lab: the CA, the probe's environment
	AWS      *fakeaws.Server

	taskID    string // the task's id in its ARN
	credToken string // what the credentials endpoint expects in Authorization
	apiURL    string // the AWS APIs on the root namespace's loopback, for a launcher (lambda.go)

	ec2Endpoint string // WithEC2: the EC2 API holding the VPC's configuration
	vpcIDs      VPCIDs // WithEC2: the ids of the VPC described there

	mu      sync.Mutex
	closers []func() error
	closed  bool
}

// seq numbers the labs of one process, so that labs of the same process never share an id.
var seq atomic.Uint32

// newID returns a lab id: this process's pid, so leftovers can be told from live labs, and a
// letter sequence for labs within the process.
func newID() string {
	n := seq.Add(1) - 1
	letters := ""
	for {
		letters = string(rune('a'+n%26)) + letters
		n /= 26
		if n == 0 {
			break
		}
		n--
	}
	return strconv.Itoa(os.Getpid()) + letters
}

// ownerPID returns the pid in a lab namespace name, or 0 when the name is not one of ours.
func ownerPID(name string) int {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	pid, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0
	}
	return pid
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// RemoveLeftovers deletes lab namespaces whose owning process is gone (a crash, a kill -9), or
// every lab namespace when all is set (`vpclab down`). A running `vpclab up` notices its
// namespaces are gone and exits. It returns the names it removed.
func RemoveLeftovers(all bool) ([]string, error) {
	names, err := netns.List(Prefix)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, n := range names {
		if !all && alive(ownerPID(n)) {
			continue
		}
		if err := netns.Delete(n); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, n)
	}
	// The files of crashed labs (their CA, their probe script). Only names with an owner pid:
	// a live lab removes its own directory, and other vpclab-… files are not a lab's.
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), Prefix+"[0-9]*"))
	for _, d := range dirs {
		if pid := ownerPID(filepath.Base(d)); pid > 0 && !alive(pid) {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return removed, errors.Join(errs...)
}

// Start builds the scenario's VPC and starts its services; opts add more (WithEC2). On error
// everything already built is removed. The caller must Close the lab, also when a test fails
// (t.Cleanup).
func Start(ctx context.Context, sc Scenario, opts ...StartOption) (l *Lab, err error) {
	if err := sc.validate(); err != nil {
		return nil, err
	}
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := netns.Check(); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("iptables-restore"); err != nil {
		return nil, fmt.Errorf("lab: iptables is not installed (apt-get install iptables): %w", err)
	}
	if _, err := RemoveLeftovers(false); err != nil {
		return nil, fmt.Errorf("lab: removing leftovers of earlier labs: %w", err)
	}
	id := newID()
	l = &Lab{
		ID:        id,
		Scenario:  sc,
		TaskNS:    Prefix + id + "-task",
		VPCNS:     Prefix + id + "-vpc",
		InetNS:    Prefix + id + "-inet",
		taskID:    randomHex(16),
		credToken: randomHex(16),
	}
	defer func() {
		if err != nil {
			l.Close()
			l = nil
		}
	}()
	if l.Dir, err = os.MkdirTemp("", "vpclab-"+id+"-"); err != nil {
		return l, fmt.Errorf("lab: %w", err)
	}
	l.onClose(func() error { return os.RemoveAll(l.Dir) })
	for _, ns := range []string{l.TaskNS, l.VPCNS, l.InetNS} {
		if err := netns.Create(ctx, ns); err != nil {
			return l, err
		}
		l.onClose(func() error { return netns.Delete(ns) })
	}
	if err := l.buildNetwork(ctx); err != nil {
		return l, err
	}
	if err := l.startServices(); err != nil {
		return l, err
	}
	if o.ec2 {
		if err := l.describeVPC(ctx, o); err != nil {
			return l, err
		}
	}
	return l, nil
}

// onClose registers fn to run at Close, in reverse order of registration.
func (l *Lab) onClose(fn func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closers = append(l.closers, fn)
}

// Close stops the lab's services and deletes its namespaces and files. It is safe to call more
// than once and from a signal handler's goroutine.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	closers := l.closers
	l.closers = nil
	l.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Alive reports whether the lab's namespaces still exist: `vpclab down` in another terminal
// removes them from under a running `vpclab up`.
func (l *Lab) Alive() bool {
	_, err := os.Stat(filepath.Join(netns.Dir, l.TaskNS))
	return err == nil
}

// buildNetwork creates the veth pairs, addresses, routes and packet filters of the scenario.
func (l *Lab) buildNetwork(ctx context.Context) error {
	n := l.Scenario.Net
	if err := netns.Veth(ctx, l.TaskNS, "eth0", l.VPCNS, "t0"); err != nil {
		return err
	}
	if err := netns.Veth(ctx, l.VPCNS, "up0", l.InetNS, "eth0"); err != nil {
		return err
	}

	task6, vpc6, inet6 := l.ipv6Lines() // ipv6.go
	task := []string{"addr add " + TaskIP + "/24 dev eth0", "route add default via " + GatewayIP}
	if n.IPv6 == IPv6Only {
		task = nil // no IPv4 address, no IPv4 route
	}
	if err := netns.IPBatch(ctx, l.TaskNS, append(task, task6...)...); err != nil {
		return err
	}

	// The router owns every VPC address the task talks to. ENIs in the task's subnet sit on the
	// subnet's interface, so the task reaches them directly as it would in AWS; the rest are
	// local /32s behind the router.
	vpc := []string{
		"addr add " + GatewayIP + "/24 dev t0",
		"addr add " + uplinkRouter + "/24 dev up0",
		"route add default via " + uplinkInet,
	}
	for _, a := range []string{ResolverIP, AmazonDNSIP, CustomDNSIP, MetadataIP} {
		vpc = append(vpc, "addr add "+a+"/32 dev lo")
	}
	if l.Scenario.Instance {
		vpc = append(vpc, "addr add "+IMDSIP+"/32 dev lo")
	}
	for _, k := range n.Endpoints {
		enis := ENIs(k)
		vpc = append(vpc, "addr add "+enis[0].String()+"/24 dev t0", "addr add "+enis[1].String()+"/32 dev lo")
	}
	for _, k := range n.Hub {
		vpc = append(vpc, "addr add "+HubENI(k).String()+"/32 dev lo")
	}
	for _, k := range n.CrossRegion {
		vpc = append(vpc, "addr add "+CrossENI(k).String()+"/24 dev t0")
	}
	if err := netns.IPBatch(ctx, l.VPCNS, append(vpc, vpc6...)...); err != nil {
		return err
	}

	inet := []string{
		"addr add " + uplinkInet + "/24 dev eth0",
		// The way back to private addresses, for traffic that came over the S3 gateway route
		// without NAT: S3 sees the task's private address then, as with a real gateway endpoint.
		"route add " + VPCCIDR + " via " + uplinkRouter,
	}
	for _, k := range serviceKeys() {
		inet = append(inet, "addr add "+PublicAddr(k).String()+"/32 dev lo")
	}
	if err := netns.IPBatch(ctx, l.InetNS, append(inet, inet6...)...); err != nil {
		return err
	}

	if err := netns.WriteSysctl(l.VPCNS, "net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	if n.IPv6 != IPv4Only {
		if err := netns.WriteSysctl(l.VPCNS, "net/ipv6/conf/all/forwarding", "1"); err != nil {
			return err
		}
		if err := l.filterIPv6(ctx); err != nil {
			return err
		}
		if err := l.waitIPv6(ctx); err != nil {
			return err
		}
	}
	return l.filter(ctx)
}

// filter loads the router's packet filter: the route table (what may leave the VPC), security
// groups and network ACLs (what reaches the endpoint ENIs).
func (l *Lab) filter(ctx context.Context) error {
	n := l.Scenario.Net
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	b.WriteString(returnACL(n))   // before the conntrack accept: an ACL is stateless
	b.WriteString(egressDrops(n)) // before the established-flow rule: the name is in a flow's first data
	// No route to the internet by default: FORWARD drops, so a public address times out, as it
	// does in an isolated subnet.
	b.WriteString("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n")
	if n.S3Gateway {
		// The gateway endpoint is a route to S3's prefix list, and nothing else.
		fmt.Fprintf(&b, "-A FORWARD -i t0 -o up0 -d %s/32 -j ACCEPT\n", PublicAddr("s3"))
	}
	if n.NAT {
		switch n.Egress {
		case EgressReject:
			b.WriteString("-A FORWARD -i t0 -o up0 -p tcp -j REJECT --reject-with tcp-reset\n")
		case EgressBlocked:
			// Nothing passes: the FORWARD policy drops it.
		default:
			b.WriteString("-A FORWARD -i t0 -o up0 -j ACCEPT\n")
		}
	}
	for _, k := range n.SGNo443 {
		for _, a := range ENIs(k) {
			fmt.Fprintf(&b, "-A INPUT -i t0 -d %s/32 -p tcp --dport 443 -j DROP\n", a)
		}
	}
	for _, k := range n.ZoneDown {
		fmt.Fprintf(&b, "-A INPUT -i t0 -d %s/32 -p tcp --dport 443 -j DROP\n", ENIs(k)[1])
	}
	if n.DNS == DNSCustomDead {
		fmt.Fprintf(&b, "-A INPUT -i t0 -d %s/32 -j DROP\n", CustomDNSIP)
	}
	if n.HubDown {
		for _, k := range n.Hub {
			fmt.Fprintf(&b, "-A INPUT -i t0 -d %s/32 -p tcp --dport 443 -j DROP\n", HubENI(k))
		}
	}
	b.WriteString("COMMIT\n")
	if n.NAT {
		b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
		// The S3 gateway route bypasses the NAT: only what the NAT forwards gets its address.
		if n.S3Gateway {
			fmt.Fprintf(&b, "-A POSTROUTING -o up0 -d %s/32 -j RETURN\n", PublicAddr("s3"))
		}
		fmt.Fprintf(&b, "-A POSTROUTING -s %s -o up0 -j SNAT --to-source %s\n", VPCCIDR, uplinkRouter)
		b.WriteString("COMMIT\n")
	}
	// -w: legacy iptables takes a machine-wide lock; another lab loading its rules must not fail us.
	cmd := netns.Command(ctx, l.VPCNS, "iptables-restore", "-w", "10")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is the lab's to handle, not iptables'
	cmd.Stdin = strings.NewReader(b.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lab: iptables-restore in %s: %w: %s", l.VPCNS, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Rules returns the router's packet filter as iptables-save prints it, for `vpclab up`.
func (l *Lab) Rules(ctx context.Context) string {
	out, err := netns.Run(ctx, l.VPCNS, "iptables-save")
	if err != nil {
		return err.Error()
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// closeTimeout bounds how long Close waits for a server's connections to wind down.
const closeTimeout = 2 * time.Second
