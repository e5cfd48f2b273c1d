package main

import (
	"context"
	"strings"

	"github.com/vpcprobe/vpcprobe/probe"
)

// instanceSource returns how runs read EC2 instance metadata, and the region to use when
// neither --region nor the environment names one. It honours AWS_EC2_METADATA_DISABLED (no
// read at all) and AWS_EC2_METADATA_SERVICE_ENDPOINT, as the SDK does. When the
// region is needed, metadata is read here first, bounded by one --timeout, and every run reuses
// that answer; otherwise each run reads it beside its checks (probe.InstanceBudget), so that a
// machine without instance metadata does not pay for it before the checks start.
func instanceSource(getenv func(string) (string, bool), o *options, metaRegion string) (func(context.Context) (probe.Instance, error), string) {
	// The SDK's own IMDS client (the credential chain's) reads the process environment for
	// the same variable: honouring it there too keeps the probe and the SDK in agreement.
	if metadataDisabled(getenv) || metadataDisabled(envLookup) {
		return nil, metaRegion
	}
	endpoint := probe.DefaultIMDS
	if v, _ := getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"); v != "" {
		endpoint = strings.TrimRight(v, "/")
	}
	fetch := func(ctx context.Context) (probe.Instance, error) { return probe.FetchInstance(ctx, endpoint) }
	if metaRegion != "" || o.region != "" || nonEmpty(getenv, "AWS_REGION", "AWS_DEFAULT_REGION") {
		return fetch, metaRegion
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	inst, err := fetch(ctx)
	cancel()
	return func(context.Context) (probe.Instance, error) { return inst, err }, inst.Region
}

// nonEmpty reports whether any of the variables is set to a non-empty value.
func nonEmpty(getenv func(string) (string, bool), names ...string) bool {
	for _, n := range names {
		if v, _ := getenv(n); v != "" {
			return true
		}
	}
	return false
}

// metadataDisabled reports whether AWS_EC2_METADATA_DISABLED is true in getenv.
func metadataDisabled(getenv func(string) (string, bool)) bool {
	v, _ := getenv("AWS_EC2_METADATA_DISABLED")
	return strings.EqualFold(strings.TrimSpace(v), "true")
}
