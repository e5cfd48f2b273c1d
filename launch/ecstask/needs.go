package ecstask

import (
	"strings"

	"github.com/vpcprobe/vpcprobe/needs"
)

// UseNeeds passes what n needs to every probe of c, as VPCPROBE_* settings: its services join
// services when servicesGiven (else replace the default: needs.MergeServices), its image is used
// unless imageGiven, and its secrets and parameters join the given VPCPROBE_SECRET and
// VPCPROBE_PARAMETER. c.Needs becomes n.
func (c *Config) UseNeeds(n *needs.Needs, services string, servicesGiven, imageGiven bool) {
	c.Needs = n
	c.SetEnv("VPCPROBE_SERVICES", needs.MergeServices(services, servicesGiven, n))
	if !imageGiven && n.Image != "" {
		c.SetEnv("VPCPROBE_IMAGE", n.Image)
	}
	for name, derived := range map[string][]string{"VPCPROBE_SECRET": n.Secrets, "VPCPROBE_PARAMETER": n.Parameters, "VPCPROBE_OTHER_REGION": n.OtherRegionFlags()} {
		if given := c.EnvValue(name); given != "" || len(derived) > 0 {
			// A repeatable setting's variable is a comma-separated list (cmd/vpcprobe, flags.go).
			c.SetEnv(name, strings.Join(needs.Union(splitList(given), derived), ","))
		}
	}
}

// SetEnv sets the probe's variable name in c, replacing a given value.
func (c *Config) SetEnv(name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i].Value = value
			return
		}
	}
	c.Env = append(c.Env, EnvVar{Name: name, Value: value})
}

// EnvValue is the value c gives the probe's variable name; empty when none.
func (c Config) EnvValue(name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
