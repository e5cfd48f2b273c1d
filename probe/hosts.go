package probe

import "github.com/vpcprobe/vpcprobe/catalogue"

// hostOf returns the host a service's checks probe: the one its SDK client really calls when
// UseAWS installed the SDK's endpoint resolution (sdkHost), else the catalogue's default.
func (p *Prober) hostOf(svc catalogue.Service, account string) string {
	if p.sdkHost != nil {
		if h := p.sdkHost(svc, account); h != "" {
			return h
		}
	}
	return svc.Host(p.Region, account)
}
