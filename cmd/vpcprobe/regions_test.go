package main

import (
	"bytes"
	"slices"
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
)

// TestOtherRegion: --other-region (and VPCPROBE_OTHER_REGION, comma-separated) gives the probe
// another region's services; --for-task-definition adds what the task definition needs in other
// regions (an awslogs group in us-east-1); a bad value is exit 2 naming the flag.
func TestOtherRegion(t *testing.T) {
	awstest.IsolateSDK(t)
	elsewhere := func(args []string, kv ...string) []string {
		o, err := parseArgs(append([]string{"--resolver", "127.0.0.1:1", "--amazon-dns", "", "--region", "eu-west-1"}, args...), env(kv...), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := o.config(env(kv...), "", "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range c.Elsewhere {
			out = append(out, e.String())
		}
		return out
	}
	if got := elsewhere([]string{"--other-region", "us-west-2:ecr.api+ecr.dkr+s3"}); !slices.Equal(got, []string{"us-west-2:ecr.api+ecr.dkr+s3"}) {
		t.Errorf("--other-region: %v", got)
	}
	if got := elsewhere(nil, "VPCPROBE_OTHER_REGION", "us-west-2:kms,us-east-1:logs"); !slices.Equal(got, []string{"us-west-2:kms", "us-east-1:logs"}) {
		t.Errorf("VPCPROBE_OTHER_REGION: %v", got)
	}
	cfg, _, err := forTaskDefinition(t, env(), "--region", "eu-central-1", "--for-task-definition", "file://../../needs/testdata/awslogs-other-region.json")
	if err == nil {
		t.Fatalf("a task definition of eu-west-1 accepted in eu-central-1: %+v", cfg.Elsewhere)
	}
	cfg, _, err = forTaskDefinition(t, env(), "--region", "eu-west-1", "--for-task-definition", "file://../../needs/testdata/awslogs-other-region.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Elsewhere) != 1 || cfg.Elsewhere[0].String() != "us-east-1:logs" {
		t.Errorf("derived other regions %+v, want us-east-1:logs", cfg.Elsewhere)
	}
	o, err := parseArgs([]string{"--resolver", "127.0.0.1:1", "--region", "eu-west-1", "--other-region", "us-west-2"}, env(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.config(env(), "", ""); !isUsageErr(err) {
		t.Errorf("--other-region us-west-2: err %v, want a usage error", err)
	}
}

func isUsageErr(err error) bool {
	_, ok := err.(usageError)
	return ok
}
