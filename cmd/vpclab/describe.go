package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/lab"
)

// describe builds sc's VPC through the EC2 API of a moto_server it starts and stops, reads it
// back with the Describe calls inspect makes, and prints the ids, what is not in the
// configuration, and the view. It needs no namespace, so no root.
func describe(ctx context.Context, sc lab.Scenario, asJSON bool, stdout, stderr io.Writer) int {
	start := time.Now()
	srv, err := moto.Run(ctx)
	if err != nil {
		return failed(ctx, err, stderr)
	}
	defer srv.Close()
	started := time.Since(start)
	client := ec2.NewFromConfig(srv.Config(nil))

	start = time.Now()
	ids, err := lab.Describe(ctx, client, sc.Net)
	if err != nil {
		return failed(ctx, err, stderr)
	}
	described := time.Since(start)
	start = time.Now()
	view, err := lab.ReadVPC(ctx, client, ids.VPC)
	if err != nil {
		return failed(ctx, err, stderr)
	}
	read := time.Since(start)

	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Scenario string      `json:"scenario"`
			IDs      lab.VPCIDs  `json:"ids"`
			VPC      lab.VPCView `json:"vpc"`
		}{sc.Name, ids, view}); err != nil {
			return failed(ctx, err, stderr)
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "vpclab: scenario %s: %s\n", sc.Name, sc.Summary)
	fmt.Fprintf(stdout, "vpclab: moto_server started in %s; described in %s, read back in %s\n\n",
		started.Round(time.Millisecond), described.Round(time.Millisecond), read.Round(time.Millisecond))
	writeIDs(stdout, ids)
	fmt.Fprintln(stdout, "\nas the Describe calls show it:")
	view.Write(stdout)
	return exitOK
}

// writeIDs prints the ids inspect and launch are pointed at and what the configuration cannot
// show.
func writeIDs(w io.Writer, ids lab.VPCIDs) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(what, id, note string) {
		if id != "" {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", what, id, note)
		}
	}
	fmt.Fprintln(w, "ids:")
	row("vpc", ids.VPC, lab.VPCCIDR)
	row("task subnet", ids.TaskSubnet, lab.TaskSubnet+" "+lab.AZ+": --subnet")
	row("task group", ids.TaskGroup, "--security-groups")
	row("route table", ids.RouteTable, "the task subnet's")
	row("endpoint subnet", ids.EndpointSubnet, lab.EndpointSubnetB+" "+lab.AZB)
	row("zone-down subnet", ids.ZoneDownSubnet, lab.ZoneDownSubnet+" "+lab.AZB)
	row("network ACL", ids.NetworkACL, "denies 443 from the task subnet")
	row("public subnet", ids.PublicSubnet, lab.PublicSubnet)
	row("internet gateway", ids.InternetGW, "")
	row("NAT gateway", ids.NAT, "")
	row("DHCP options", ids.DHCPOptions, "domain-name-servers "+lab.CustomDNSIP)
	row("S3 prefix list", ids.PrefixList, "")
	for _, k := range catalogue.Keys() {
		if id := ids.Endpoints[k]; id != "" {
			note := "gateway"
			if g := ids.EndpointGroups[k]; g != "" {
				note = "group " + g
			}
			row("endpoint "+k, id, note)
		}
	}
	tw.Flush()
	if len(ids.Unexplained) > 0 {
		fmt.Fprintln(w, "not in the configuration (a live failure here is one inspect cannot explain):")
		for _, u := range ids.Unexplained {
			fmt.Fprintf(w, "  - %s\n", u)
		}
	}
}
