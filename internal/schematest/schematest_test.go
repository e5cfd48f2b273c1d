package schematest

import (
	"strings"
	"testing"
)

// TestValidateRejects proves the schemas have teeth: each broken document names what is wrong.
func TestValidateRejects(t *testing.T) {
	good := `{"schema":"vpcprobe/v1","run_id":"r","verdict":"pass","started_at":"2026-11-21T10:00:00.000Z","duration_ms":1,
		"context":{"region":"eu-west-1","partition":"aws","account":"","cluster":"","task_arn":"","availability_zone":"","subnet_cidr":"","private_ip":"","resolvers":[]},
		"services":[],"delivery":{"cloudwatch":"disabled"}}`
	if err := Validate([]byte(good)); err != nil {
		t.Fatalf("a minimal report: %v", err)
	}
	tests := []struct{ name, doc, want string }{
		{"unknown schema", `{"schema":"vpcprobe/v9"}`, "does not ship"},
		{"bad verdict", strings.Replace(good, `"verdict":"pass"`, `"verdict":"ok"`, 1), "verdict"},
		{"missing context", strings.Replace(good, `"context":{`, `"contxt":{`, 1), "context"},
		{"bad account", strings.Replace(good, `"account":""`, `"account":"12"`, 1), "account"},
		{"failed delivery without error", strings.Replace(good, `"cloudwatch":"disabled"`, `"cloudwatch":"failed"`, 1), "error"},
		{"failed service without diagnosis", strings.Replace(good, `"services":[]`, `"services":[{"service":"s3","host":"h","endpoint_service":"e","verdict":"fail","route":"none","addresses":[],"checks":[]}]`, 1), "diagnosis"},
		{"inspect finding with a bad severity", `{"schema":"vpcprobe-inspect/v1","vpc_id":"vpc-1","subnet_id":"subnet-1","findings":[{"severity":"bad","code":"x","resources":[],"diagnosis":"d","remediation":"r"}]}`, "severity"},
		{"launch subnet with an invalid report", `{"schema":"vpcprobe-launch/v1","launch_id":"l","verdict":"pass","started_at":"x","duration_ms":0,"subnets":[{"subnet":"subnet-1","verdict":"pass","diagnoses":[],"report":{"schema":"vpcprobe/v1"}}]}`, "report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
