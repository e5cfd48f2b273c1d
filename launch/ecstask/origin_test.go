package ecstask

import (
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/launch"
)

// TestUseOrigin: the task's subnet comes first, its service's security groups win, and what
// cannot be known is an error naming the flag that supplies it.
func TestUseOrigin(t *testing.T) {
	tests := []struct {
		name     string
		origin   launch.Origin
		subnets  []string
		groups   []string
		publicIP bool // --assign-public-ip given
		wantNets []string
		wantSGs  []string
		wantIP   bool
		errFlag  string
	}{
		{"service groups", launch.Origin{Subnet: "subnet-b", Service: "web", SecurityGroups: []string{"sg-1", "sg-2"}, AssignPublicIP: "ENABLED"},
			nil, nil, false, []string{"subnet-b"}, []string{"sg-1", "sg-2"}, true, ""},
		{"service groups over given ones", launch.Origin{Subnet: "subnet-b", Service: "web", SecurityGroups: []string{"sg-1"}},
			[]string{"subnet-a"}, []string{"sg-9"}, false, []string{"subnet-b", "subnet-a"}, []string{"sg-1"}, false, ""},
		{"the given public IP setting wins", launch.Origin{Subnet: "subnet-b", Service: "web", SecurityGroups: []string{"sg-1"}, AssignPublicIP: "ENABLED"},
			nil, nil, true, []string{"subnet-b"}, []string{"sg-1"}, false, ""},
		{"standalone task with groups given", launch.Origin{Subnet: "subnet-b"}, []string{"subnet-b"}, []string{"sg-9"}, false, []string{"subnet-b"}, []string{"sg-9"}, false, ""},
		{"standalone task without groups", launch.Origin{Subnet: "subnet-b"}, nil, nil, false, nil, nil, false, "--security-groups"},
		{"deleted service without groups", launch.Origin{Subnet: "subnet-b", Service: "gone"}, nil, nil, false, nil, nil, false, "--security-groups"},
		{"no network interface", launch.Origin{Service: "web", SecurityGroups: []string{"sg-1"}}, nil, nil, false, nil, nil, false, "--subnets"},
		{"no network interface, subnets given", launch.Origin{Service: "web", SecurityGroups: []string{"sg-1"}}, []string{"subnet-a"}, nil, false, []string{"subnet-a"}, []string{"sg-1"}, false, ""},
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
