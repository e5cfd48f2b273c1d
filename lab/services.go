package lab

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/testca"
)

// Names of the lab's two certificate authorities, as the probe's reports show them.
const (
	CAName          = "vpclab CA"
	InterceptCAName = "vpclab TLS inspection CA" // the firewall that decrypts egress traffic
)

// AccessKey is the access key id of the container credentials the lab hands the task.
const AccessKey = "ASIAVPCLAB0000000001"

// RoleARN is the task role those credentials belong to.
const RoleARN = "arn:aws:sts::" + Account + ":assumed-role/vpcprobe-task/vpclab"

// serviceKeys are every service of the catalogue.
func serviceKeys() []string { return catalogue.Keys() }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startServices starts the DNS servers, the TLS front ends, the task metadata endpoint and the
// credentials endpoint inside the lab's namespaces, and writes the task's resolv.conf.
func (l *Lab) startServices() error {
	n := l.Scenario.Net

	cfg := fakeaws.DefaultConfig()
	cfg.Region, cfg.Account = Region, Account
	cfg.AccessKeys[AccessKey] = RoleARN
	if l.Scenario.AWS != nil {
		l.Scenario.AWS(&cfg)
	}
	l.AWS = fakeaws.New(cfg)

	// DNS: the VPC's view (private DNS of the endpoints) at base + 2 and 169.254.169.253; the
	// public view at the custom DNS server, which never sees the private hosted zones.
	vpcZone, publicZone := l.zones()
	resolvers := []string{ResolverIP, AmazonDNSIP}
	if n.IPv6 != IPv4Only {
		resolvers = append(resolvers, ResolverIPv6)
	}
	for _, a := range resolvers {
		if err := l.serveDNS(l.VPCNS, a, vpcZone); err != nil {
			return err
		}
	}
	if n.DNS == DNSCustom {
		if err := l.serveDNS(l.VPCNS, CustomDNSIP, publicZone); err != nil {
			return err
		}
	}
	resolver := ResolverIP
	if n.DNS != DNSVPC {
		resolver = CustomDNSIP
	}
	conf := fmt.Sprintf("# vpclab %s: %s\nsearch %s.compute.internal\nnameserver %s\n", l.ID, l.Scenario.Name, Region, l.taskResolver(resolver))
	if err := netns.WriteConf(l.TaskNS, "resolv.conf", []byte(conf)); err != nil {
		return err
	}

	// TLS: the lab CA for every AWS name, and the inspection CA for the firewall behind the NAT.
	ca, err := testca.New(CAName)
	if err != nil {
		return err
	}
	intercept, err := testca.New(InterceptCAName)
	if err != nil {
		return err
	}
	cert, err := ca.Issue(certNames()...)
	if err != nil {
		return err
	}
	forged, err := intercept.Issue(certNames()...)
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.CAFile(), ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}

	front := &http.Server{
		Handler:           l.AWS,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // the probe's TCP check hangs up on purpose
	}
	l.onClose(func() error { return shutdown(front) })
	serve := func(ns string, addr netip.Addr, tc *tls.Config) error {
		ln, err := netns.Listen(ns, listenNet("tcp", addr), netip.AddrPortFrom(addr, 443).String())
		if err != nil {
			return err
		}
		go front.Serve(tls.NewListener(ln, tc))
		return nil
	}
	labTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	for _, k := range n.Endpoints {
		for _, a := range ENIs(k) {
			if slices.Contains(n.Silent, k) {
				if err := l.serveSilent(l.VPCNS, a); err != nil {
					return err
				}
				continue
			}
			if err := serve(l.VPCNS, a, labTLS); err != nil {
				return err
			}
		}
	}
	// The public front ends. With TLS inspection, connections that came through the NAT (their
	// source is the NAT's address) get the firewall's forged certificate.
	publicTLS := labTLS
	if n.NAT && n.Egress == EgressIntercept {
		forgedTLS := &tls.Config{Certificates: []tls.Certificate{forged}, MinVersion: tls.VersionTLS12}
		publicTLS = &tls.Config{
			MinVersion: tls.VersionTLS12,
			GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
				if ap, err := netip.ParseAddrPort(hello.Conn.RemoteAddr().String()); err == nil && ap.Addr().String() == uplinkRouter {
					return forgedTLS, nil
				}
				return labTLS, nil
			},
		}
	}
	for _, k := range serviceKeys() {
		if err := serve(l.InetNS, PublicAddr(k), publicTLS); err != nil {
			return err
		}
	}
	enis6, public6 := l.ipv6Fronts() // ipv6.go
	for _, k := range n.Endpoints {
		for _, a := range enis6[k] {
			serveOne := func() error { return serve(l.VPCNS, a, labTLS) }
			if slices.Contains(n.Silent, k) {
				serveOne = func() error { return l.serveSilent(l.VPCNS, a) }
			}
			if err := serveOne(); err != nil {
				return err
			}
		}
	}
	for _, a := range public6 {
		if err := serve(l.InetNS, a, publicTLS); err != nil {
			return err
		}
	}
	for _, k := range n.CrossRegion { // cross-region interface endpoints, in the task's subnet
		if err := serve(l.VPCNS, CrossENI(k), labTLS); err != nil {
			return err
		}
	}
	for _, k := range n.Hub { // the hub's endpoints, behind the transit gateway (the router)
		if err := serve(l.VPCNS, HubENI(k), labTLS); err != nil {
			return err
		}
	}

	if err := l.serveMetadata(); err != nil {
		return err
	}
	if l.Scenario.Instance {
		if err := l.serveInstance(); err != nil {
			return err
		}
	}
	return l.serveCredentials()
}

// zones returns the VPC resolver's zone and the public one.
func (l *Lab) zones() (vpc, public *fakedns.Zone) {
	n := l.Scenario.Net
	vpc, public = fakedns.NewZone(), fakedns.NewZone()
	suffix := catalogue.PartitionOf(Region).DNSSuffix
	for _, z := range []*fakedns.Zone{vpc, public} {
		// Names that are public even when every endpoint is in place.
		z.Set("ecr."+Region+"."+suffix, PublicAddr("ecr.api"))
		z.Set("s3."+Region+"."+suffix, PublicAddr("s3"))
	}
	for _, k := range serviceKeys() {
		name := zoneName(k)
		public.Set(name, PublicAddr(k))
		enis := ENIs(k)
		for _, an := range agentNames(k) {
			public.Set(an, PublicAddr(k))
			if slices.Contains(n.Endpoints, k) && !slices.Contains(n.PrivateDNSOff, k) {
				vpc.Set(an, enis[0], enis[1])
			} else {
				vpc.Set(an, PublicAddr(k))
			}
		}
		switch {
		case !slices.Contains(n.Endpoints, k):
			vpc.Set(name, PublicAddr(k))
		case slices.Contains(n.PrivateDNSOff, k):
			vpc.Set(name, PublicAddr(k))
			// Only the endpoint's own name points at it.
			vpc.Set(fmt.Sprintf("vpce-0lab%02d-%s.%s.%s.vpce.%s", index(k), l.ID, k, Region, suffix), enis[0], enis[1])
		default:
			vpc.Set(name, enis[0], enis[1])
		}
	}
	for name, addrs := range n.Shadow {
		var as []netip.Addr
		for _, a := range addrs {
			as = append(as, netip.MustParseAddr(a))
		}
		vpc.Set(name, as...)
	}
	l.ipv6Records(vpc)
	hubAndFirewall(n, vpc)
	return vpc, public
}

// serveDNS serves zone over UDP and TCP on addr:53 inside ns.
func (l *Lab) serveDNS(ns, addr string, zone *fakedns.Zone) error {
	hostport := net.JoinHostPort(addr, "53")
	ip := netip.MustParseAddr(addr)
	pc, err := netns.ListenPacket(ns, listenNet("udp", ip), hostport)
	if err != nil {
		return err
	}
	ln, err := netns.Listen(ns, listenNet("tcp", ip), hostport)
	if err != nil {
		pc.Close()
		return err
	}
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	udp := &dns.Server{PacketConn: pc, Handler: zone, NotifyStartedFunc: notify}
	tcp := &dns.Server{Listener: ln, Handler: zone, NotifyStartedFunc: notify}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	<-started
	<-started
	l.onClose(func() error {
		udp.Shutdown()
		tcp.Shutdown()
		return nil
	})
	return nil
}

// serveSilent listens on addr:443 inside ns, accepts every connection and never writes a byte:
// an appliance or a wrong target holding the endpoint's address.
func (l *Lab) serveSilent(ns string, addr netip.Addr) error {
	ln, err := netns.Listen(ns, listenNet("tcp", addr), netip.AddrPortFrom(addr, 443).String())
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c) // read and ignore, so the peer's writes never block
		}
	}()
	l.onClose(func() error {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		return nil
	})
	return nil
}

// MetadataURI is the task's ECS_CONTAINER_METADATA_URI_V4.
func (l *Lab) MetadataURI() string {
	if l.Scenario.Net.IPv6 == IPv6Only { // no IPv4 route: the endpoint's IPv6 address (ipv6.go)
		return "http://[" + MetadataIPv6 + "]/v4/" + l.taskID + "-0527074092"
	}
	return "http://" + MetadataIP + "/v4/" + l.taskID + "-0527074092"
}

// TaskARN is the task's ARN, as task metadata gives it.
func (l *Lab) TaskARN() string {
	return "arn:aws:ecs:" + Region + ":" + Account + ":task/" + Cluster + "/" + l.taskID
}

// serveMetadata serves task metadata v4 at MetadataIP:80 in the VPC namespace: ${URI} for the
// container and ${URI}/task for the task, as the Fargate agent does.
func (l *Lab) serveMetadata() error {
	network := map[string]any{
		"NetworkMode":              "awsvpc",
		"IPv4Addresses":            []string{TaskIP},
		"IPv4SubnetCIDRBlock":      TaskSubnet,
		"DomainNameServers":        []string{ResolverIP},
		"PrivateDNSName":           "ip-10-0-1-17." + Region + ".compute.internal",
		"SubnetGatewayIpv4Address": GatewayIP + "/24",
	}
	l.ipv6Metadata(network)
	container := map[string]any{
		"DockerId": l.taskID + "-0527074092",
		"Name":     "vpcprobe",
		"Image":    Account + ".dkr.ecr." + Region + ".amazonaws.com/vpcprobe:latest",
		"Networks": []any{network},
	}
	task := map[string]any{
		"Cluster":          "arn:aws:ecs:" + Region + ":" + Account + ":cluster/" + Cluster,
		"TaskARN":          l.TaskARN(),
		"Family":           "vpcprobe",
		"Revision":         "1",
		"DesiredStatus":    "RUNNING",
		"KnownStatus":      "RUNNING",
		"AvailabilityZone": AZ,
		"LaunchType":       "FARGATE",
		"Containers":       []any{container},
	}
	taskDoc, _ := json.Marshal(task)
	containerDoc, _ := json.Marshal(container)
	_, base, _ := strings.Cut(strings.TrimPrefix(l.MetadataURI(), "http://"), "/")
	base = "/" + base
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(containerDoc)
	})
	mux.HandleFunc("GET "+base+"/task", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(taskDoc)
	})
	if l.Scenario.Net.IPv6 != IPv4Only {
		if err := l.serveHTTP(l.VPCNS, net.JoinHostPort(MetadataIPv6, "80"), mux); err != nil {
			return err
		}
	}
	return l.serveHTTP(l.VPCNS, net.JoinHostPort(MetadataIP, "80"), mux)
}

// CredentialsURI is the task's AWS_CONTAINER_CREDENTIALS_FULL_URI.
func (l *Lab) CredentialsURI() string {
	return "http://" + CredentialsAddr + "/v2/credentials/" + l.taskID
}

// serveCredentials serves container credentials on the task namespace's loopback, checking the
// authorization token as the ECS agent does.
func (l *Lab) serveCredentials() error {
	path := strings.TrimPrefix(l.CredentialsURI(), "http://"+CredentialsAddr)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != l.credToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code":"AccessDenied","message":"Authorization header does not match"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]string{
			"RoleArn":         "arn:aws:iam::" + Account + ":role/vpcprobe-task",
			"AccessKeyId":     AccessKey,
			"SecretAccessKey": "vpclab/secret/" + l.taskID,
			"Token":           "vpclab-session-token-" + l.taskID,
			"Expiration":      time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
		})
	})
	return l.serveHTTP(l.TaskNS, CredentialsAddr, mux)
}

// serveHTTP serves h over plain HTTP on addr inside ns until the lab closes.
func (l *Lab) serveHTTP(ns, addr string, h http.Handler) error {
	network := "tcp4"
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		network = listenNet("tcp", ap.Addr())
	}
	ln, err := netns.Listen(ns, network, addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	l.onClose(func() error { return shutdown(srv) })
	return nil
}

// shutdown stops srv, waiting a little for requests in flight.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
	return nil
}

// CAFile is the lab CA's certificate in PEM, given to the probe as SSL_CERT_FILE and
// AWS_CA_BUNDLE.
func (l *Lab) CAFile() string { return filepath.Join(l.Dir, "ca.pem") }

// Env is the probe's whole environment inside the lab: the standard variables a Fargate task
// has, pointed at the lab, and nothing of the host's (no shared AWS config, no proxy).
func (l *Lab) Env() []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + l.Dir,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"ECS_CONTAINER_METADATA_URI_V4=" + l.MetadataURI(),
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + l.CredentialsURI(),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + l.credToken,
		"SSL_CERT_FILE=" + l.CAFile(),
		"AWS_CA_BUNDLE=" + l.CAFile(),
		"NO_COLOR=1",
	}
	if l.Scenario.Instance {
		return l.instanceEnv(env)
	}
	return env
}

// Events returns every CloudWatch Logs event the lab received, group by group and stream by
// stream.
func (l *Lab) Events() []fakeaws.Event {
	var all []fakeaws.Event
	for _, g := range l.AWS.Groups() {
		for _, s := range l.AWS.Streams(g) {
			all = append(all, l.AWS.Events(g, s)...)
		}
	}
	return all
}
