package launch

import (
	"slices"
	"strings"
	"testing"
)

// TestClusterOfTask reads the cluster from the task ARN formats ECS has used.
func TestClusterOfTask(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ecs:eu-west-1:123456789012:task/shop/0123456789abcdef0123456789abcdef":    "shop",
		"arn:aws-cn:ecs:cn-north-1:123456789012:task/orders/0123456789abcdef":              "orders",
		"arn:aws:ecs:eu-west-1:123456789012:task/0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c":     "", // old format
		"0123456789abcdef0123456789abcdef":                                                 "",
		"arn:aws:ecs:eu-west-1:123456789012:container-instance/shop/0123456789abcdef01234": "",
	} {
		if got := ClusterOfTask(arn); got != want {
			t.Errorf("%s: %q, want %q", arn, got, want)
		}
	}
}

// TestUseOrigin: the task's subnet comes first, its service's security groups win, and what
// cannot be known is an error naming the flag that supplies it.
func TestUseOrigin(t *testing.T) {
	tests := []struct {
		name     string
		origin   Origin
		subnets  []string
		groups   []string
		publicIP bool // --assign-public-ip given
		wantNets []string
		wantSGs  []string
		wantIP   bool
		errFlag  string
	}{
		{"service groups", Origin{Subnet: "subnet-b", Service: "web", SecurityGroups: []string{"sg-1", "sg-2"}, AssignPublicIP: "ENABLED"},
			nil, nil, false, []string{"subnet-b"}, []string{"sg-1", "sg-2"}, true, ""},
		{"service groups over given ones", Origin{Subnet: "subnet-b", Service: "web", SecurityGroups: []string{"sg-1"}},
			[]string{"subnet-a"}, []string{"sg-9"}, false, []string{"subnet-b", "subnet-a"}, []string{"sg-1"}, false, ""},
		{"the given public IP setting wins", Origin{Subnet: "subnet-b", Service: "web", SecurityGroups: []string{"sg-1"}, AssignPublicIP: "ENABLED"},
			nil, nil, true, []string{"subnet-b"}, []string{"sg-1"}, false, ""},
		{"standalone task with groups given", Origin{Subnet: "subnet-b"}, []string{"subnet-b"}, []string{"sg-9"}, false, []string{"subnet-b"}, []string{"sg-9"}, false, ""},
		{"standalone task without groups", Origin{Subnet: "subnet-b"}, nil, nil, false, nil, nil, false, "--security-groups"},
		{"deleted service without groups", Origin{Subnet: "subnet-b", Service: "gone"}, nil, nil, false, nil, nil, false, "--security-groups"},
		{"no network interface", Origin{Service: "web", SecurityGroups: []string{"sg-1"}}, nil, nil, false, nil, nil, false, "--subnets"},
		{"no network interface, subnets given", Origin{Service: "web", SecurityGroups: []string{"sg-1"}}, []string{"subnet-a"}, nil, false, []string{"subnet-a"}, []string{"sg-1"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.origin.TaskARN, tt.origin.Cluster = "arn:aws:ecs:eu-west-1:123456789012:task/shop/abc", "shop"
			c := Config{Subnets: tt.subnets, SecurityGroups: tt.groups}
			err := c.UseOrigin(&tt.origin, tt.publicIP)
			if tt.errFlag != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.errFlag+":") {
					t.Errorf("error %v, want one naming %s", err, tt.errFlag)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Cluster != "shop" || c.ForTask == nil || !slices.Equal(c.Subnets, tt.wantNets) || !slices.Equal(c.SecurityGroups, tt.wantSGs) || c.AssignPublicIP != tt.wantIP {
				t.Errorf("cluster %s subnets %v groups %v public ip %v", c.Cluster, c.Subnets, c.SecurityGroups, c.AssignPublicIP)
			}
		})
	}
}
