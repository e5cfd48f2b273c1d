package responder

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/needs"
)

func claimsTable(t *testing.T) *dynamodb.Client {
	t.Helper()
	awstest.IsolateSDK(t)
	db := dynamodb.NewFromConfig(moto.Start(t).Config(nil))
	if _, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(testTable),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(KeyAttribute), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestClaims against moto's DynamoDB: the first claim of a key wins and the next reads it; an
// expired claim counts as absent (TTL deletes lazily, and moto never does); a released claim
// lets the next event probe; the verdict recorded by Finish is what later events read.
func TestClaims(t *testing.T) {
	c := Claims{DB: claimsTable(t), Table: testTable}
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	first := Claim{Key: "probe#k", RunID: "r1", EventID: "e1", LogStream: "s1", Expires: now.Add(15 * time.Minute)}
	if got, won, err := c.Claim(ctx, first, now); err != nil || !won || got.RunID != "r1" {
		t.Fatalf("first claim: %+v %v %v", got, won, err)
	}
	second := Claim{Key: "probe#k", RunID: "r2", EventID: "e2", LogStream: "s2", Expires: now.Add(16 * time.Minute)}
	got, won, err := c.Claim(ctx, second, now.Add(time.Minute))
	if err != nil || won || got.RunID != "r1" || got.EventID != "e1" || got.LogStream != "s1" {
		t.Fatalf("second claim within the window: %+v won=%v %v; want r1's", got, won, err)
	}
	if err := c.Finish(ctx, first, "fail"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := c.Claim(ctx, second, now.Add(2*time.Minute)); got.Verdict != "fail" {
		t.Errorf("linked claim's verdict %q, want fail", got.Verdict)
	}
	second.Expires = now.Add(31 * time.Minute)
	if got, won, err := c.Claim(ctx, second, now.Add(16*time.Minute)); err != nil || !won || got.RunID != "r2" {
		t.Errorf("claim after the window: %+v won=%v %v; want r2 to win", got, won, err)
	}
	if err := c.Release(ctx, Claim{Key: "probe#k", RunID: "r1"}); err != nil { // not the holder: no effect
		t.Fatal(err)
	}
	if _, won, _ := c.Claim(ctx, Claim{Key: "probe#k", RunID: "r3", Expires: now.Add(time.Hour)}, now.Add(17*time.Minute)); won {
		t.Error("a release by someone else freed r2's claim")
	}
	if err := c.Release(ctx, Claim{Key: "probe#k", RunID: "r2"}); err != nil {
		t.Fatal(err)
	}
	if _, won, _ := c.Claim(ctx, Claim{Key: "probe#k", RunID: "r3", Expires: now.Add(time.Hour)}, now.Add(17*time.Minute)); !won {
		t.Error("the released claim was not free")
	}
}

// TestSlots: at most Max leases at once; the next waits and gives up with ErrNoSlot when its
// context ends; a released or expired lease is free again.
func TestSlots(t *testing.T) {
	s := Slots{DB: claimsTable(t), Table: testTable, Max: 2}
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := s.Acquire(ctx, "r1", now.Add(time.Minute), clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, "r2", now.Add(time.Minute), clock); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = s.Acquire(short, "r3", now.Add(time.Minute), clock)
	cancel()
	if !errors.Is(err, ErrNoSlot) {
		t.Fatalf("third lease: %v, want ErrNoSlot", err)
	}
	if err := s.Release(ctx, a, "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, "r3", now.Add(time.Minute), clock); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	later := func() time.Time { return now.Add(2 * time.Minute) }
	if _, err := s.Acquire(ctx, "r4", now.Add(3*time.Minute), later); err != nil {
		t.Fatalf("after the leases expired: %v", err)
	}
}

// TestCauseKey: one key for tasks that take the same path (groups in any order, images of one
// registry), another when the subnet, a group or what is needed differs.
func TestCauseKey(t *testing.T) {
	n := &needs.Needs{Region: "eu-west-1", Services: []string{"ecr.api", "ecr.dkr", "s3", "logs"}, Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1"}
	base := CauseKey("subnet-1", []string{"sg-a", "sg-b"}, n)
	same := CauseKey("subnet-1", []string{"sg-b", "sg-a"}, &needs.Needs{Region: "eu-west-1", Services: n.Services, Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cart:9"})
	if base != same {
		t.Errorf("same path, keys %s and %s", base, same)
	}
	for name, other := range map[string]string{
		"subnet":  CauseKey("subnet-2", []string{"sg-a", "sg-b"}, n),
		"groups":  CauseKey("subnet-1", []string{"sg-a"}, n),
		"secrets": CauseKey("subnet-1", []string{"sg-a", "sg-b"}, &needs.Needs{Region: "eu-west-1", Services: append(n.Services, "secretsmanager"), Image: n.Image, Secrets: []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"}}),
	} {
		if other == base {
			t.Errorf("another %s, same key", name)
		}
	}
}
