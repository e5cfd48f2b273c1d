package fakeaws_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// logs returns a CloudWatch Logs client aimed at the fake.
func (e *env) logs() *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(e.aws, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

// newLogStream creates group g and stream s.
func (e *env) newLogStream(t *testing.T, g, s string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.logs().CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String(s)}); err != nil {
		t.Fatal(err)
	}
}

// batch returns n events with messages of size bytes, one millisecond apart from now.
func batch(n, size int) []logtypes.InputLogEvent {
	now := time.Now().UnixMilli()
	out := make([]logtypes.InputLogEvent, n)
	for i := range out {
		out[i] = logtypes.InputLogEvent{Timestamp: aws.Int64(now + int64(i)), Message: aws.String(strings.Repeat("x", size))}
	}
	return out
}

func TestLogGroupsAndStreams(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	ctx := context.Background()
	e.newLogStream(t, "/vpcprobe", "run-1")

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"group again", func() error {
			_, err := e.logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/vpcprobe")})
			return err
		}, "ResourceAlreadyExistsException"},
		{"stream again", func() error {
			_, err := e.logs().CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/vpcprobe"), LogStreamName: aws.String("run-1")})
			return err
		}, "ResourceAlreadyExistsException"},
		{"stream in missing group", func() error {
			_, err := e.logs().CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/nope"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceNotFoundException"},
		{"put to missing stream", func() error {
			_, err := e.logs().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/vpcprobe"), LogStreamName: aws.String("nope"), LogEvents: batch(1, 10)})
			return err
		}, "ResourceNotFoundException"},
		{"invalid group name", func() error {
			_, err := e.logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bad name")})
			return err
		}, "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(t, tt.call()); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
	if got := e.fake.Streams("/vpcprobe"); len(got) != 1 || got[0] != "run-1" {
		t.Errorf("Streams = %v", got)
	}
}

func TestPutLogEventsLimits(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	ctx := context.Background()
	e.newLogStream(t, "g", "s")

	outOfOrder := batch(2, 10)
	outOfOrder[0], outOfOrder[1] = outOfOrder[1], outOfOrder[0]
	longSpan := batch(2, 10)
	longSpan[0].Timestamp = aws.Int64(*longSpan[1].Timestamp - (25 * time.Hour).Milliseconds())

	tests := []struct {
		name   string
		events []logtypes.InputLogEvent
		want   string
	}{
		// 4 × (262,118 + 26) is exactly 1,048,576 bytes: the largest batch allowed.
		{"exactly the byte limit", batch(4, 262144-26), ""},
		{"one byte over the batch limit", append(batch(3, 262144-26), batch(1, 262144-25)...), "InvalidParameterException"},
		{"batch too large", batch(5, 262144-26), "InvalidParameterException"},
		{"event too large", batch(1, 262144-25), "InvalidParameterException"},
		{"10,000 events", batch(10000, 1), ""},
		{"10,001 events", batch(10001, 1), "InvalidParameterException"},
		{"out of order", outOfOrder, "InvalidParameterException"},
		{"spans more than 24h", longSpan, "InvalidParameterException"},
		{"empty batch", []logtypes.InputLogEvent{}, "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.logs().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: tt.events,
			})
			if got := errorCode(t, err); got != tt.want {
				t.Errorf("code = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
	if got := len(e.fake.Events("g", "s")); got != 10004 {
		t.Errorf("stored %d events, want the 10,004 of the accepted batches", got)
	}
}

func TestPutLogEventsRejectsOldAndNew(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	e.newLogStream(t, "g", "s")
	now := time.Now()
	at := func(d time.Duration, msg string) logtypes.InputLogEvent {
		return logtypes.InputLogEvent{Timestamp: aws.Int64(now.Add(d).UnixMilli()), Message: aws.String(msg)}
	}
	put := func(events ...logtypes.InputLogEvent) *logtypes.RejectedLogEventsInfo {
		t.Helper()
		out, err := e.logs().PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
			LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.RejectedLogEventsInfo
	}
	old := put(at(-15*24*time.Hour, "too old"), at(-15*24*time.Hour+time.Hour, "too old"))
	if old == nil || aws.ToInt32(old.TooOldLogEventEndIndex) != 2 {
		t.Errorf("too old: RejectedLogEventsInfo = %+v", old)
	}
	young := put(at(0, "now"), at(3*time.Hour, "too new"))
	if young == nil || aws.ToInt32(young.TooNewLogEventStartIndex) != 1 {
		t.Errorf("too new: RejectedLogEventsInfo = %+v", young)
	}
	if got := e.fake.Events("g", "s"); len(got) != 1 || got[0].Message != "now" {
		t.Errorf("Events = %+v", got)
	}
}

func TestReadLogEvents(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	ctx := context.Background()
	e.newLogStream(t, "g", "a")
	if _, err := e.logs().CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	put := func(stream string, msgs ...string) {
		var events []logtypes.InputLogEvent
		for i, m := range msgs {
			events = append(events, logtypes.InputLogEvent{Timestamp: aws.Int64(now + int64(i)), Message: aws.String(m)})
		}
		if _, err := e.logs().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", `{"type":"service","verdict":"pass"}`, `{"type":"summary","verdict":"fail"}`)
	put("b", "plain error line", "plain ok line")

	streams, err := e.logs().DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	if err != nil || len(streams.LogStreams) != 2 || aws.ToInt64(streams.LogStreams[0].LastEventTimestamp) != now+1 {
		t.Fatalf("DescribeLogStreams: %v %+v", err, streams)
	}

	got, err := e.logs().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a"), StartFromHead: aws.Bool(true), Limit: aws.Int32(1)})
	if err != nil || len(got.Events) != 1 || !strings.Contains(aws.ToString(got.Events[0].Message), "service") {
		t.Fatalf("GetLogEvents: %v %+v", err, got)
	}
	next, err := e.logs().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a"), NextToken: got.NextForwardToken})
	if err != nil || len(next.Events) != 1 || !strings.Contains(aws.ToString(next.Events[0].Message), "summary") {
		t.Fatalf("GetLogEvents page 2: %v %+v", err, next)
	}

	for _, tt := range []struct {
		pattern string
		want    int
	}{
		{"", 4},
		{"plain", 2},
		{`"error line"`, 1},
		{"?error ?summary", 2},
		{"plain -error", 1},
		{`{ $.type = "summary" }`, 1},
		{`{ $.type = "service" && $.verdict != "fail" }`, 1},
	} {
		t.Run(fmt.Sprintf("filter %q", tt.pattern), func(t *testing.T) {
			out, err := e.logs().FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(tt.pattern)})
			if err != nil || len(out.Events) != tt.want {
				t.Errorf("got %v, %d events, want %d", err, len(out.Events), tt.want)
			}
		})
	}
}

// TestConcurrentPuts drives the fake from many goroutines; run with -race to prove the locking.
func TestConcurrentPuts(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	e.newLogStream(t, "g", "s")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := e.logs().PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
					LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: batch(2, 8),
				}); err != nil {
					t.Error(err)
				}
				e.fake.Requests()
			}
		}()
	}
	wg.Wait()
	if got := len(e.fake.Events("g", "s")); got != 80 {
		t.Errorf("stored %d events, want 80", got)
	}
}
