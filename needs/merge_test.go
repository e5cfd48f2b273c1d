package needs

import (
	"slices"
	"testing"
)

// TestMergeServices: derived services join given ones, replace the default, and a task
// definition that needs none keeps what the probe would probe anyway (CONTRACT.md,
// --for-task-definition: "adds the services … the task definition needs").
func TestMergeServices(t *testing.T) {
	tests := []struct {
		name     string
		services string
		given    bool
		derived  []string
		want     string
	}{
		{"default replaced", "ecr.api,ecr.dkr,s3,logs,sts", false, []string{"ecr.api", "secretsmanager"}, "ecr.api,secretsmanager"},
		{"given joined", "sqs", true, []string{"ecr.api", "secretsmanager"}, "sqs,ecr.api,secretsmanager"},
		{"nothing derived, default kept", "ecr.api,ecr.dkr,s3,logs,sts", false, nil, "ecr.api,ecr.dkr,s3,logs,sts"},
		{"nothing derived, given kept", "sqs", true, nil, "sqs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MergeServices(tt.services, tt.given, &Needs{Services: tt.derived}); got != tt.want {
				t.Errorf("MergeServices = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestUnion: the given items first, in their order, then the derived ones not given.
func TestUnion(t *testing.T) {
	got := Union([]string{"prod/db", "arn:aws:ssm:eu-west-1:123456789012:parameter/a"}, []string{"arn:aws:ssm:eu-west-1:123456789012:parameter/a", "prod/api"})
	want := []string{"prod/db", "arn:aws:ssm:eu-west-1:123456789012:parameter/a", "prod/api"}
	if !slices.Equal(got, want) {
		t.Errorf("Union = %q; want %q", got, want)
	}
	if got := Union(nil, nil); len(got) != 0 {
		t.Errorf("Union(nil, nil) = %q; want none", got)
	}
}
