package lab

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/internal/moto"
)

// StartOption asks Start for more than the scenario's namespaces.
type StartOption func(*startOptions)

type startOptions struct {
	ec2      bool
	endpoint string // "" with ec2: the lab starts a moto_server of its own
}

// WithEC2 makes the lab serve its VPC's configuration: Start describes the scenario's network
// through the EC2 API (Describe) to the moto_server at endpoint, or, when endpoint is "", to one
// it starts and stops with the lab. EC2Endpoint and VPCIDs then give what `vpcprobe inspect` and
// `vpcprobe launch` are pointed at (AWSEnv gives the whole environment).
//
// Opt-in: moto's start costs about half a second idle, seconds on a busy machine, and most labs
// need only the live path. Many labs may share one moto_server: each describes a VPC of its own
// there (same CIDR, separate ids), so none needs a reset.
func WithEC2(endpoint string) StartOption {
	return func(o *startOptions) { o.ec2, o.endpoint = true, endpoint }
}

// describeVPC is Start's WithEC2 step.
func (l *Lab) describeVPC(ctx context.Context, o startOptions) error {
	endpoint := o.endpoint
	if endpoint == "" {
		s, err := moto.Run(ctx)
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		l.onClose(s.Close)
		endpoint = s.URL
	}
	ids, err := Describe(ctx, ec2.NewFromConfig(moto.ConfigFor(endpoint, nil)), l.Scenario.Net)
	if err != nil {
		return err
	}
	l.ec2Endpoint, l.vpcIDs = endpoint, ids
	return nil
}

// EC2Endpoint returns the URL of the EC2 API that holds the lab's VPC configuration (moto), or ""
// when the lab was started without WithEC2.
func (l *Lab) EC2Endpoint() string { return l.ec2Endpoint }

// VPCIDs returns the ids of the lab's VPC in EC2Endpoint: the task subnet and group to inspect,
// the endpoints, route table, NAT…; zero without WithEC2.
func (l *Lab) VPCIDs() VPCIDs { return l.vpcIDs }

// AWSEnv returns the environment that points a vpcprobe run outside the lab (inspect, launch's
// configuration reads) at the lab's EC2 and Route 53 Resolver API with test credentials and
// nothing of the machine's AWS setup; nil without WithEC2.
func (l *Lab) AWSEnv() []string {
	if l.ec2Endpoint == "" {
		return nil
	}
	return moto.Env(l.ec2Endpoint)
}

// ReadVPC reads the lab's VPC back from EC2Endpoint, as inspect would.
func (l *Lab) ReadVPC(ctx context.Context) (VPCView, error) {
	if l.ec2Endpoint == "" {
		return VPCView{}, fmt.Errorf("lab %s: started without WithEC2: no VPC configuration", l.ID)
	}
	return ReadVPC(ctx, ec2.NewFromConfig(moto.ConfigFor(l.ec2Endpoint, nil)), l.vpcIDs.VPC)
}
