package fakeaws

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// IMDS is a fake of the EC2 instance metadata service, version 2 only (http-tokens required):
// PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds issues a token, and every
// GET under /latest/meta-data/ must carry it in X-aws-ec2-metadata-token, or it answers 401 as
// the real service does. It is an http.Handler: tests serve it on loopback, the lab at
// 169.254.169.254 inside its VPC namespace.
type IMDS struct {
	Instance Instance

	// HopLimited makes the token PUT never answer, as a container in bridge mode sees it on an
	// instance whose http-put-response-hop-limit is 1: the response's TTL runs out on the way,
	// so the client waits until it gives up. (The TCP connection itself is accepted.)
	HopLimited bool

	mu     sync.Mutex
	tokens map[string]bool
	puts   int
	gets   []string // the paths of every authorised GET, in order
}

// Instance is what the fake's metadata says of the instance.
type Instance struct {
	ID, Region, AvailabilityZone, PrivateIP, MAC string
	SubnetID, VPCID, SubnetCIDR, VPCCIDR         string
	Account                                      string // the identity document's accountId
	// The IPv6 side; empty values are absent paths (404), as on an instance without IPv6.
	IPv6, SubnetIPv6CIDR, VPCIPv6CIDR string
}

// TokenRequests returns how many token PUTs the fake received.
func (m *IMDS) TokenRequests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}

func (m *IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/latest/api/token" {
		m.token(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	m.mu.Lock()
	ok := m.tokens[r.Header.Get("X-aws-ec2-metadata-token")]
	m.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	m.mu.Lock()
	m.gets = append(m.gets, r.URL.Path)
	m.mu.Unlock()
	if r.URL.Path == identityDocumentPath {
		m.identityDocument(w)
		return
	}
	path, found := strings.CutPrefix(r.URL.Path, "/latest/meta-data/")
	if !found {
		http.NotFound(w, r)
		return
	}
	v, found := m.values()[path]
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(v))
}

// token answers the token PUT: the TTL header is required (1 to 21600 seconds) and echoed.
func (m *IMDS) token(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.puts++
	m.mu.Unlock()
	if r.Method != http.MethodPut {
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	if m.HopLimited {
		<-r.Context().Done() // the answer never arrives
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > 21600 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	tok := "AQAEA" + randomHex(24) + "=="
	m.mu.Lock()
	if m.tokens == nil {
		m.tokens = map[string]bool{}
	}
	m.tokens[tok] = true
	m.mu.Unlock()
	w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(tok))
}

// values are the metadata paths the fake answers.
func (m *IMDS) values() map[string]string {
	i := m.Instance
	mac := "network/interfaces/macs/" + i.MAC + "/"
	vals := map[string]string{
		"instance-id":                  i.ID,
		"placement/region":             i.Region,
		"placement/availability-zone":  i.AvailabilityZone,
		"local-ipv4":                   i.PrivateIP,
		"mac":                          i.MAC,
		mac + "subnet-id":              i.SubnetID,
		mac + "vpc-id":                 i.VPCID,
		mac + "subnet-ipv4-cidr-block": i.SubnetCIDR,
		mac + "vpc-ipv4-cidr-block":    i.VPCCIDR,
		mac + "local-ipv4s":            i.PrivateIP,
	}
	for path, v := range map[string]string{"ipv6s": i.IPv6, "subnet-ipv6-cidr-blocks": i.SubnetIPv6CIDR, "vpc-ipv6-cidr-blocks": i.VPCIPv6CIDR} {
		if v != "" {
			vals[mac+path] = v
		}
	}
	return vals
}
