package inspect

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// tool returns the path of a command-line tool a test needs, failing with how to install it.
func tool(t *testing.T, name, install string, paths ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found: %s", name, install)
	return ""
}

// brokenFixes inspects two subnets of a VPC that lacks two endpoints and the S3 gateway route,
// whose endpoint group lets nothing in, whose task group lets nothing out and whose task ACL
// drops the answers of a Lambda workload (it lets only Linux's 32768-60999 in): every kind of
// fix, merged across the subnets.
func brokenFixes(t *testing.T) ([]*Fix, *world) {
	e := newEnv(t)
	ctx := context.Background()
	w := build(t, e, options{skip: []string{"ecr.api", "logs"}, s3Table: true, noIngress: true})
	_, err := e.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(w.taskSG),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	w.must(err)
	w.taskACL(aclEntry(100, true, ec2types.RuleActionAllow, "0.0.0.0/0", 443, 443),
		aclEntry(100, false, ec2types.RuleActionAllow, "0.0.0.0/0", 32768, 60999))
	second := w.subnet("10.0.4.0/24", region+"b")
	reps, err := Subnets(ctx, e.clients(), []Target{{SubnetID: w.task, SecurityGroups: []string{w.taskSG}, Workload: WorkloadLambda}, {SubnetID: second, SecurityGroups: []string{w.taskSG}, Workload: WorkloadLambda}}, defaultServices(t))
	if err != nil {
		t.Fatal(err)
	}
	fixes := Fixes(reps...)
	kinds := map[FixKind]int{}
	for _, f := range fixes {
		kinds[f.Kind]++
		if f.Kind == FixEndpoint && f.EndpointType == "Interface" && len(f.Subnets) != 2 {
			t.Errorf("endpoint for %s in subnets %v, want one per zone of the two task subnets", f.Service, f.Subnets)
		}
	}
	for _, k := range []FixKind{FixEndpoint, FixGatewayRoute, FixIngress, FixEgress, FixACL} {
		if kinds[k] == 0 {
			t.Errorf("no %s fix among %d", k, len(fixes))
		}
	}
	return fixes, w
}

// TestSnippets: the CloudFormation snippet passes cfn-lint and the Terraform one is exactly as
// `terraform fmt` writes it (providers cannot be downloaded here, so fmt's parse is the check).
func TestSnippets(t *testing.T) {
	cfnLint := tool(t, "cfn-lint", "pip install cfn-lint", "/root/.pyenv/shims/cfn-lint")
	terraform := tool(t, "terraform", "install Terraform: https://developer.hashicorp.com/terraform/install", "/usr/local/bin/terraform")
	fixes, w := brokenFixes(t)
	dir := t.TempDir()

	t.Run("cloudformation", func(t *testing.T) {
		tpl := CloudFormation(fixes, region)
		var doc struct {
			Resources map[string]struct {
				Type       string
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(tpl, &doc); err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, r := range doc.Resources {
			types[r.Type]++
		}
		for _, typ := range []string{"AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress", "AWS::EC2::NetworkAclEntry"} {
			if types[typ] == 0 {
				t.Errorf("no %s in the template", typ)
			}
		}
		if !strings.Contains(string(tpl), w.vpc) || !strings.Contains(string(tpl), w.epSG) {
			t.Errorf("the template does not name %s and %s", w.vpc, w.epSG)
		}
		file := filepath.Join(dir, "fix.json")
		if err := os.WriteFile(file, tpl, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(cfnLint, "--regions", region, "--", file)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("cfn-lint: %v\n%s\n%s", err, out, tpl)
		}
	})
	t.Run("terraform", func(t *testing.T) {
		tf := Terraform(fixes)
		for _, typ := range []string{"aws_vpc_endpoint", "aws_vpc_endpoint_route_table_association", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_network_acl_rule"} {
			if !strings.Contains(string(tf), `resource "`+typ+`"`) {
				t.Errorf("no %s in the snippet", typ)
			}
		}
		file := filepath.Join(dir, "fix.tf")
		if err := os.WriteFile(file, tf, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "terraformrc")
		os.WriteFile(cfg, nil, 0o644)
		cmd := exec.Command(terraform, "fmt", "-check", "-diff", file)
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cfg, "CHECKPOINT_DISABLE=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("terraform fmt -check: %v\n%s\n%s", err, out, tf)
		}
	})
}
