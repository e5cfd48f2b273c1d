package catalogue

import (
	"slices"
	"strings"
)

// The one reader of AWS host names (STYLE.md habit 17): the inverse of Host and HostFor. The
// probe, needs, inspect and the stopped-reason translator all ask it which service, region,
// partition, registry account and variant a host name stands for, instead of each keeping a
// regular expression of its own.

// ParsedHost is what an AWS service host name says of itself.
type ParsedHost struct {
	// Service is the catalogue key (ecr.api, ecr.dkr, s3, logs, ecs-agent, …) for the services
	// of the catalogue, else the endpoint prefix the name starts with (dynamodb, ec2).
	Service   string
	Region    string // empty for a global name (s3.amazonaws.com, sts.amazonaws.com)
	Partition string // aws, aws-cn, aws-us-gov, …
	// Account is ecr.dkr's registry account; empty for the registry zone's own name and when
	// the first label is not a 12-digit account (a redacted xxx in a quoted error message).
	Account string
	Bucket  string // s3: the bucket of a virtual-hosted name (prod-<r>-starport-layer-bucket)
	Variant Variant
	// VPCEndpoint: the name is an interface endpoint's own (vpce-….<service>.<r>.vpce.amazonaws.com).
	VPCEndpoint bool
	Domain      string // the DNS suffix the name ends in: amazonaws.com, api.aws, on.aws, …
}

// Known reports whether the host's service is in the catalogue.
func (h ParsedHost) Known() bool {
	_, ok := Lookup(h.Service)
	return ok
}

// hostSuffixes are the DNS suffixes of AWS service names, longest first, with the partitions
// they serve and whether they are the dual-stack names. AWS General Reference, "AWS service
// endpoints" (standard amazonaws.com, dual-stack api.aws), "Amazon ECR endpoints and quotas"
// (the registry's dual-stack dkr-ecr.<r>.on.aws), and the China endpoint pages
// (amazonaws.com.cn, dual-stack api.amazonwebservices.com.cn).
var hostSuffixes = []struct {
	suffix     string
	partitions []string
	dualStack  bool
}{
	{"api.amazonwebservices.com.cn", []string{"aws-cn"}, true},
	{"amazonaws.com.cn", []string{"aws-cn"}, false},
	{"amazonaws.com", []string{"aws", "aws-us-gov"}, false},
	{"api.aws", []string{"aws", "aws-us-gov"}, true},
	{"on.aws", []string{"aws", "aws-us-gov", "aws-cn"}, true},
	{"sc2s.sgov.gov", []string{"aws-iso-b"}, false},
	{"csp.hci.ic.gov", []string{"aws-iso-f"}, false},
	{"c2s.ic.gov", []string{"aws-iso"}, false},
	{"cloud.adc-e.uk", []string{"aws-iso-e"}, false},
	{"amazonaws.eu", []string{"aws-eusc"}, false},
}

// ParseHost reads an AWS service host name: ok is false for a name outside AWS's service
// domains, or one whose region belongs to another partition than its domain
// (dkr.ecr.cn-north-1.amazonaws.com). For the latter the ParsedHost still says what the name
// claims (Service, Region, its Partition, Domain), so that a caller can say why no client
// reaches it. Case and a trailing dot do not matter.
func ParseHost(host string) (ParsedHost, bool) {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	for _, s := range hostSuffixes {
		rest, ok := strings.CutSuffix(host, "."+s.suffix)
		if !ok || rest == "" {
			continue
		}
		h, ok := parseLabels(strings.Split(rest, "."), s.suffix, s.dualStack)
		if !ok {
			return ParsedHost{}, false
		}
		if h.Region != "" {
			h.Partition = PartitionOf(h.Region).ID
		} else {
			h.Partition = s.partitions[0]
		}
		h.Domain = s.suffix
		if !slices.Contains(s.partitions, h.Partition) {
			return h, false
		}
		return h, true
	}
	return ParsedHost{}, false
}

// parseLabels reads the labels before the DNS suffix: [prefix…] <region>, or a global name.
func parseLabels(labels []string, suffix string, dualStack bool) (ParsedHost, bool) {
	h := ParsedHost{}
	if n := len(labels); n >= 3 && labels[n-1] == "vpce" && (suffix == "amazonaws.com" || suffix == "amazonaws.com.cn") {
		// vpce-0a1b-2c3d.api.ecr.<r>.vpce.amazonaws.com, <bucket>.vpce-….s3.<r>.vpce.amazonaws.com
		h.VPCEndpoint = true
		labels = labels[:n-1]
		labels = slices.DeleteFunc(labels, func(l string) bool { return strings.HasPrefix(l, "vpce-") })
	}
	n := len(labels)
	if n == 0 {
		return h, false
	}
	last := labels[n-1]
	switch {
	case ValidRegion(last):
		h.Region, labels = last, labels[:n-1]
	case strings.HasPrefix(last, "s3-") && ValidRegion(strings.TrimPrefix(last, "s3-")) && suffix == "amazonaws.com":
		// The legacy dash form s3-<r>.amazonaws.com (S3 user guide, "Legacy: s3-Region").
		h.Region, labels = strings.TrimPrefix(last, "s3-"), append(labels[:n-1:n-1], "s3")
	}
	if len(labels) == 0 {
		return h, false
	}
	if h.Region == "" && (dualStack || suffix != "amazonaws.com") {
		return h, false // only the aws partition has region-less (global) names here
	}
	return readService(h, labels, dualStack)
}

// readService names the service from the labels before the region.
func readService(h ParsedHost, labels []string, dualStack bool) (ParsedHost, bool) {
	n := len(labels)
	first, lastL := labels[0], labels[n-1]
	fips := func(l string) (string, bool) { return strings.CutSuffix(l, "-fips") }

	// S3: [<bucket>.]s3[-fips][.dualstack]
	if !dualStack {
		i := n - 1
		ds := false
		if labels[i] == "dualstack" && i > 0 {
			ds, i = true, i-1
		}
		if base, f := fips(labels[i]); base == "s3" {
			h.Service, h.Variant = "s3", Variant{FIPS: f, DualStack: ds}
			h.Bucket = strings.Join(labels[:i], ".")
			return h, true
		}
		if ds {
			return h, false
		}
	}
	if h.Region == "" {
		// Global names: s3.amazonaws.com (above), sts.amazonaws.com and other global endpoints.
		if n != 1 {
			return h, false
		}
		h.Service, h.Variant.FIPS = fipsName(first)
		return h, h.Service != ""
	}
	h.Variant.DualStack = dualStack
	switch {
	// ECR registry: <a>.dkr.ecr[-fips].<r>.amazonaws.com, <a>.dkr-ecr[-fips].<r>.on.aws.
	case n == 3 && !dualStack && labels[1] == "dkr" && strings.HasPrefix(lastL, "ecr"):
		base, f := fips(lastL)
		if base != "ecr" || !dnsLabel(first) {
			return h, false
		}
		h.Service, h.Account, h.Variant.FIPS = "ecr.dkr", accountOf(first), f
		return h, true
	case n == 2 && !dualStack && first == "dkr" && (lastL == "ecr" || lastL == "ecr-fips"):
		// The registry's private DNS zone (*.dkr.ecr.<r>.amazonaws.com): no account.
		h.Service, h.Variant.FIPS = "ecr.dkr", lastL == "ecr-fips"
		return h, true
	case n == 2 && dualStack && strings.HasPrefix(lastL, "dkr-ecr"):
		base, f := fips(lastL)
		if base != "dkr-ecr" || !dnsLabel(first) {
			return h, false
		}
		h.Service, h.Account, h.Variant.FIPS = "ecr.dkr", accountOf(first), f
		return h, true
	// ECR API: api.ecr[-fips].<r>.amazonaws.com, ecr[-fips].<r>.amazonaws.com, ecr[-fips].<r>.api.aws.
	case n == 2 && !dualStack && first == "api":
		base, f := fips(lastL)
		if base != "ecr" {
			return h, false
		}
		h.Service, h.Variant.FIPS = "ecr.api", f
		return h, true
	case n == 1:
		name, f := fipsName(first)
		if name == "" {
			return h, false
		}
		switch {
		case name == "ecr":
			name = "ecr.api"
		case name == "ecs-a" || agentNumbered(name, "ecs-a-"):
			name = "ecs-agent" // the agent's control channel, ecs-a-<n>.<r> from DiscoverPollEndpoint
		case name == "ecs-t" || agentNumbered(name, "ecs-t-"):
			name = "ecs-telemetry"
		}
		h.Service, h.Variant.FIPS = name, f
		return h, true
	}
	return h, false
}

// fipsName splits an endpoint prefix into its name and whether it carries -fips; "" when it is
// not an endpoint prefix (letters, digits and dashes).
func fipsName(label string) (string, bool) {
	if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.HasPrefix(label, "-") {
		return "", false
	}
	name, f := strings.CutSuffix(label, "-fips")
	return name, f
}

// agentNumbered reports whether name is prefix followed by digits (ecs-a-4).
func agentNumbered(name, prefix string) bool {
	n, ok := strings.CutPrefix(name, prefix)
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// accountOf returns label when it is an account id, else "".
func accountOf(label string) string {
	if ValidAccount(label) {
		return label
	}
	return ""
}

// dnsLabel reports whether l is one DNS label of letters, digits and dashes.
func dnsLabel(l string) bool {
	return l != "" && len(l) <= 63 && strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}
