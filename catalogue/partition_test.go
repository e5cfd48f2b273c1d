package catalogue

import (
	"strings"
	"testing"
)

func TestPartitionNames(t *testing.T) {
	tests := []struct {
		region, arn, ecrAPI, supportedErr string
	}{
		{"eu-west-1", "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*", "com.amazonaws.eu-west-1.ecr.api", ""},
		{"cn-north-1", "arn:aws-cn:s3:::prod-cn-north-1-starport-layer-bucket/*", "cn.com.amazonaws.cn-north-1.ecr.api", ""},
		{"us-gov-west-1", "arn:aws-us-gov:s3:::prod-us-gov-west-1-starport-layer-bucket/*", "com.amazonaws.us-gov-west-1.ecr.api", ""},
		{"us-iso-east-1", "arn:aws-iso:s3:::prod-us-iso-east-1-starport-layer-bucket/*", "com.amazonaws.us-iso-east-1.ecr.api", "aws-iso partition"},
		{"eusc-de-east-1", "arn:aws-eusc:s3:::prod-eusc-de-east-1-starport-layer-bucket/*", "com.amazonaws.eusc-de-east-1.ecr.api", "aws-eusc partition"},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			if got := LayerBucketARN(tt.region); got != tt.arn {
				t.Errorf("LayerBucketARN = %s, want %s", got, tt.arn)
			}
			ecrAPI, _ := Lookup("ecr.api")
			if got := ecrAPI.EndpointService(tt.region); got != tt.ecrAPI {
				t.Errorf("EndpointService = %s, want %s", got, tt.ecrAPI)
			}
			err := CheckRegion(tt.region)
			if (err == nil) != (tt.supportedErr == "") || (err != nil && !strings.Contains(err.Error(), tt.supportedErr)) {
				t.Errorf("CheckRegion = %v, want error mentioning %q", err, tt.supportedErr)
			}
		})
	}
	for _, bad := range []string{"", "eu-west", "EU-WEST-1", "eu-west-1a"} {
		if CheckRegion(bad) == nil {
			t.Errorf("CheckRegion(%q) = nil", bad)
		}
	}
	p, svc, r, a, res, ok := ParseARN("arn:aws-cn:ecs:cn-north-1:123456789012:task/c/abc")
	if !ok || p != "aws-cn" || svc != "ecs" || r != "cn-north-1" || a != "123456789012" || res != "task/c/abc" {
		t.Errorf("ParseARN: %s %s %s %s %s %v", p, svc, r, a, res, ok)
	}
	if _, _, _, _, _, ok := ParseARN("ecs:cn-north-1"); ok {
		t.Error("ParseARN accepted a non-ARN")
	}
}
