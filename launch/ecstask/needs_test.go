package ecstask

import (
	"testing"

	"github.com/vpcprobe/vpcprobe/needs"
)

// TestUseNeeds: what a task definition needs reaches the probe's variables — derived services
// join given ones, a given image wins, secrets and parameters are unioned with the given
// comma-separated lists (the launcher's --for-task-definition and --for-task, as cmd/vpcprobe's
// withNeeds documents them) — and nothing else of the launch's environment changes.
func TestUseNeeds(t *testing.T) {
	n := &needs.Needs{Services: []string{"ecr.api", "secretsmanager"}, Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1",
		Secrets: []string{"prod/db", "prod/api"}, Parameters: []string{"arn:aws:ssm:eu-west-1:123456789012:parameter/a"}}
	tests := []struct {
		name                      string
		env                       []EnvVar
		services                  string
		servicesGiven, imageGiven bool
		want                      map[string]string
	}{
		{"nothing given", []EnvVar{{"VPCPROBE_LOG_GROUP", "/vpcprobe"}}, "ecr.api,ecr.dkr,s3,logs,sts", false, false, map[string]string{
			"VPCPROBE_LOG_GROUP": "/vpcprobe", "VPCPROBE_SERVICES": "ecr.api,secretsmanager", "VPCPROBE_IMAGE": n.Image,
			"VPCPROBE_SECRET": "prod/db,prod/api", "VPCPROBE_PARAMETER": "arn:aws:ssm:eu-west-1:123456789012:parameter/a"}},
		{"given joined or winning", []EnvVar{{"VPCPROBE_SERVICES", "sqs"}, {"VPCPROBE_IMAGE", "mine:1"}, {"VPCPROBE_SECRET", "prod/api, other"}}, "sqs", true, true, map[string]string{
			"VPCPROBE_SERVICES": "sqs,ecr.api,secretsmanager", "VPCPROBE_IMAGE": "mine:1",
			"VPCPROBE_SECRET": "prod/api,other,prod/db", "VPCPROBE_PARAMETER": "arn:aws:ssm:eu-west-1:123456789012:parameter/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Env: tt.env}
			c.UseNeeds(n, tt.services, tt.servicesGiven, tt.imageGiven)
			if c.Needs != n {
				t.Errorf("Needs = %p; want %p", c.Needs, n)
			}
			if len(c.Env) != len(tt.want) {
				t.Errorf("Env = %v; want %d variables", c.Env, len(tt.want))
			}
			for name, want := range tt.want {
				if got := c.EnvValue(name); got != want {
					t.Errorf("%s = %q; want %q", name, got, want)
				}
			}
		})
	}
}
