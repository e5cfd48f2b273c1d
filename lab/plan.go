package lab

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// The lab's fixed world. These addresses exist only inside a lab's own namespaces, so every lab
// instance uses the same ones; names carry the instance id instead.
const (
	Region  = "eu-west-1"    // the region every lab host name is in
	Account = "123456789012" // the account of the task, the registry and the role
	Cluster = "vpclab"       // the cluster in the task ARN
	AZ      = "eu-west-1a"   // the task's availability zone; endpoint ENIs also sit in eu-west-1b

	VPCCIDR     = "10.0.0.0/16" // the VPC
	TaskSubnet  = "10.0.1.0/24" // the task's subnet, in AZ
	TaskIP      = "10.0.1.17"   // the task's ENI
	GatewayIP   = "10.0.1.1"    // the VPC router on the task subnet
	ResolverIP  = "10.0.0.2"    // the Amazon-provided resolver at VPC base + 2
	AmazonDNSIP = "169.254.169.253"
	CustomDNSIP = "10.0.3.53"  // a custom DNS server (an EC2 instance named by a DHCP option set)
	MetadataIP  = "10.0.255.2" // the task metadata endpoint (ECS uses 169.254.170.2; the lab does not)

	// CredentialsAddr is where container credentials are served, on the task namespace's own
	// loopback: the SDK accepts AWS_CONTAINER_CREDENTIALS_FULL_URI over plain http only for
	// loopback and the ECS/EKS link-local hosts, and the lab must not use the latter.
	CredentialsAddr = "127.0.0.1:51679"

	// The uplink between the VPC router and the "internet": the router's side is the NAT
	// gateway's public address.
	uplinkRouter = "203.0.113.2"
	uplinkInet   = "203.0.113.1"
)

// interfaceKeys are the catalogue's services reached through interface endpoints, in catalogue
// order; every other key (s3) is a gateway endpoint.
func interfaceKeys() []string {
	var keys []string
	for _, k := range catalogue.Keys() {
		if s, _ := catalogue.Lookup(k); !s.Gateway {
			keys = append(keys, k)
		}
	}
	return keys
}

// index is a service's position in the catalogue; it numbers the service's addresses.
func index(key string) int {
	return slices.Index(catalogue.Keys(), key)
}

// ENIs returns the two addresses of key's interface endpoint: one in the task's subnet
// (10.0.1.0/24, the task's AZ) and one in 10.0.2.0/24 (the second AZ). ecr.api gets 10.0.1.51
// and 10.0.2.51, the next service .52, and so on.
func ENIs(key string) [2]netip.Addr {
	i := index(key)
	return [2]netip.Addr{
		netip.AddrFrom4([4]byte{10, 0, 1, byte(51 + i)}),
		netip.AddrFrom4([4]byte{10, 0, 2, byte(51 + i)}),
	}
}

// PublicAddr returns the "public" address of key's regional front end, in 198.51.100.0/24
// (TEST-NET-2, never routed on the internet).
func PublicAddr(key string) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 51, 100, byte(11 + index(key))})
}

// Host returns the host name the probe connects to for key in the lab.
func Host(key string) string {
	s, ok := catalogue.Lookup(key)
	if !ok {
		panic(fmt.Sprintf("lab: unknown service %q", key))
	}
	return s.Host(Region, Account)
}

// zoneName returns the DNS name the lab's zones carry for key: the host, or for ecr.dkr the
// wildcard private DNS of the endpoint really creates, and for s3 the bucket wildcard.
func zoneName(key string) string {
	switch key {
	case "ecr.dkr":
		return "*.dkr.ecr." + Region + "." + catalogue.PartitionOf(Region).DNSSuffix
	case "s3":
		return "*.s3." + Region + "." + catalogue.PartitionOf(Region).DNSSuffix
	}
	return Host(key)
}

// certNames are the names the lab's TLS front ends present: every host of every service.
func certNames() []string {
	names := []string{"ecr." + Region + ".amazonaws.com", "s3." + Region + ".amazonaws.com"}
	for _, k := range catalogue.Keys() {
		names = append(names, Host(k), zoneName(k))
		names = append(names, agentNames(k)...)
	}
	for _, k := range dualStackKeys { // ECR's dual-stack names (ipv6.go)
		names = append(names, dualStackHost(k), "*.dkr-ecr."+Region+".on.aws")
	}
	names = append(names, otherRegionNames()...)
	slices.Sort(names)
	return slices.Compact(names)
}
