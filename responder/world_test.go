package responder

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/respondertest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
)

// The names of respondertest's world.
const (
	testTable    = respondertest.Table
	testLogGroup = respondertest.LogGroup
)

// responder is the responder of this world, with millisecond polls.
func newResponder(t *testing.T, w *respondertest.World) *Responder {
	code, err := lambdafn.ZipBootstrap(fakeELF())
	if err != nil {
		t.Fatal(err)
	}
	return &Responder{
		Config: Config{Table: testTable, Role: "arn:aws:iam::" + moto.Account + ":role/vpcprobe-lambda", Code: code,
			Architecture: lambdafn.ArchX86, LogGroup: testLogGroup, Region: moto.Region, Account: moto.Account, ProbeDeadline: 5 * time.Second},
		ECS: w.ECS, DynamoDB: w.DynamoDB, Lambda: w.Lambda, Logs: cloudwatchlogs.NewFromConfig(w.Cfg), Events: eventbridge.NewFromConfig(w.Cfg),
		Shared: launch.Shared{Inspect: &inspect.Clients{EC2: w.EC2, Region: moto.Region}, PollFirst: time.Millisecond, PollMax: 5 * time.Millisecond, StopTimeout: 5 * time.Second},
	}
}

// fakeELF is the header of a Linux x86_64 executable: what the runner checks of a bootstrap.
func fakeELF() []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6], h[7] = 2, 1, 1, 0
	h[18] = 62
	return h
}
