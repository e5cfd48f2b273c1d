package probe

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// One network path per service. With HTTPS_PROXY set, every check of a service — tcp, tls, http
// and the SDK's calls — takes the same path, and the report names it (ServiceReport.Path):
//
//   - The services the ECS platform or agent calls itself (catalogue.Service.Platform: image
//     pulls, awslogs, secrets, the agent's channels) go direct. Fargate's platform never uses the
//     task's HTTPS_PROXY, and the agent on EC2 uses a proxy only when /etc/ecs/ecs.config sets
//     one: a probe that went through the proxy would pass where the task's image pull fails.
//   - The services only the application calls (sts, kms, ssmmessages) go through the proxy when
//     HTTPS_PROXY and NO_PROXY say so, as the application's own SDK does: the tcp check is the
//     CONNECT tunnel to the host, the tls check runs over that tunnel.
//
// The DNS check is the resolver's view either way; for a proxied service the proxy resolves the
// name, so a local DNS failure does not stop the checks of the proxy path.

// Path values of ServiceReport.Path.
const (
	PathDirect = "direct"
	pathProxy  = "proxy " // followed by the proxy's URL without credentials
)

// directHosts is the set of hosts whose traffic never takes the proxy: the platform's.
type directHosts struct {
	mu    sync.Mutex
	hosts map[string]bool
}

func (d *directHosts) add(host string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hosts == nil {
		d.hosts = map[string]bool{}
	}
	d.hosts[host] = true
}

func (d *directHosts) has(host string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hosts[host]
}

// markPlatform records the hosts of every platform service, with the registry of account.
func (p *Prober) markPlatform(account string) {
	for _, s := range catalogue.All() {
		if s.Platform && (s.Key != "ecr.dkr" || account != "") {
			p.direct.add(p.hostOf(s, account))
		}
	}
}

// pathProxy is the proxy function of every HTTP transport of a run: the configured proxy (nil:
// none), except for the platform's hosts, which go direct.
func (p *Prober) pathProxy(req *http.Request) (*url.URL, error) {
	if p.Proxy == nil || p.direct.has(req.URL.Hostname()) {
		return nil, nil
	}
	return p.Proxy(req)
}

// proxyFor returns the proxy a service's traffic to host takes, or nil for the direct path.
func (p *Prober) proxyFor(svc catalogue.Service, host string) *url.URL {
	if p.Proxy == nil || svc.Platform {
		return nil
	}
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/", nil)
	if err != nil {
		return nil
	}
	u, err := p.Proxy(req)
	if err != nil || u == nil {
		return nil
	}
	return u
}

// pathName is ServiceReport.Path for a proxy (nil: direct).
func pathName(u *url.URL) string {
	if u == nil {
		return PathDirect
	}
	return pathProxy + checks.ProxyName(u)
}

// proxyOfPath is the proxy's URL in a ServiceReport.Path, "" for the direct path.
func proxyOfPath(path string) string {
	if u, ok := strings.CutPrefix(path, pathProxy); ok {
		return u
	}
	return ""
}
