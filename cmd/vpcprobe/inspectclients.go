package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/networkfirewall"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"

	"github.com/vpcprobe/vpcprobe/inspect"
)

// inspectClientsFor are the clients inspect and launch read a VPC's configuration with: EC2 (also
// its NAT gateways and Block Public Access), Route 53 Resolver (rules and DNS Firewall), Route 53
// (the private hosted zones associated with the VPC) and Network Firewall.
func inspectClientsFor(cfg aws.Config) inspect.Clients {
	e, r := ec2.NewFromConfig(cfg), route53resolver.NewFromConfig(cfg)
	return inspect.Clients{EC2: e, Resolver: r, Region: cfg.Region,
		DNSFirewall: r, Egress: e, Route53: route53.NewFromConfig(cfg), NetworkFirewall: networkfirewall.NewFromConfig(cfg)}
}
