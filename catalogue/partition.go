package catalogue

import (
	"fmt"
	"regexp"
	"strings"
)

// Partition is an AWS partition: its name, the DNS suffix of its service host names, and whether
// vpcprobe knows its endpoint service names well enough to name the endpoint a user must create.
type Partition struct {
	ID        string // aws, aws-cn, aws-us-gov, …: the second field of every ARN
	DNSSuffix string // amazonaws.com, amazonaws.com.cn, …
	// Supported is false for the partitions whose VPC endpoint service names and hosts vpcprobe
	// cannot verify (the ISO partitions, the European Sovereign Cloud): a remediation naming a
	// wrong endpoint is worse than a clear refusal. CheckRegion refuses them.
	Supported bool
}

// partitions maps region prefixes to partitions, most specific first, as the SDK's partitions.json.
var partitions = []struct {
	prefix string
	p      Partition
}{
	{"cn-", Partition{"aws-cn", "amazonaws.com.cn", true}},
	{"us-gov-", Partition{"aws-us-gov", "amazonaws.com", true}},
	{"us-isob-", Partition{"aws-iso-b", "sc2s.sgov.gov", false}},
	{"us-isof-", Partition{"aws-iso-f", "csp.hci.ic.gov", false}},
	{"us-iso-", Partition{"aws-iso", "c2s.ic.gov", false}},
	{"eu-isoe-", Partition{"aws-iso-e", "cloud.adc-e.uk", false}},
	{"eusc-", Partition{"aws-eusc", "amazonaws.eu", false}},
}

// PartitionOf returns the partition a region belongs to.
func PartitionOf(region string) Partition {
	for _, e := range partitions {
		if strings.HasPrefix(region, e.prefix) {
			return e.p
		}
	}
	return Partition{"aws", "amazonaws.com", true}
}

var regionRE = regexp.MustCompile(`^[a-z]{2,5}(-[a-z]+)+-[0-9]{1,2}$`)

// ValidRegion reports whether region is shaped like an AWS region name (eu-west-1, us-gov-west-1).
func ValidRegion(region string) bool { return regionRE.MatchString(region) }

// CheckRegion returns an error, fit for one line on stderr, when region is not a region name or
// lies in a partition vpcprobe does not support; nil otherwise.
func CheckRegion(region string) error {
	if !ValidRegion(region) {
		return fmt.Errorf("%q is not an AWS region name (eu-west-1, us-gov-west-1, cn-north-1)", region)
	}
	if p := PartitionOf(region); !p.Supported {
		return fmt.Errorf("region %s is in the %s partition, whose VPC endpoint names vpcprobe cannot verify; it supports aws, aws-cn and aws-us-gov", region, p.ID)
	}
	return nil
}

// ARN returns the ARN of resource in service, region and account, in region's partition:
// ARN("eu-west-1", "s3", "", "", "bucket/*") is arn:aws:s3:::bucket/*. Global services (IAM, S3
// buckets) take an empty region or account, as their ARNs do.
func ARN(partitionRegion, service, region, account, resource string) string {
	return "arn:" + PartitionOf(partitionRegion).ID + ":" + service + ":" + region + ":" + account + ":" + resource
}

// LayerBucketARN returns the ARN of every object of the ECR layer bucket of region, the resource
// an S3 gateway endpoint policy must allow for image pulls.
func LayerBucketARN(region string) string {
	return ARN(region, "s3", "", "", LayerBucket(region)+"/*")
}

// ParseARN splits an ARN into partition, service, region, account and resource; ok is false when
// s is not an ARN.
func ParseARN(s string) (partition, service, region, account, resource string, ok bool) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[2] == "" {
		return "", "", "", "", "", false
	}
	return f[1], f[2], f[3], f[4], f[5], true
}
