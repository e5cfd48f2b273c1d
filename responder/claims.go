package responder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/vpcprobe/vpcprobe/needs"
)

// Once per cause: a service in a crash loop emits a STOPPED event a minute, and many services of
// one subnet fail at once for the same reason. A live probe stands for every event with the same
// (subnet, security groups, needs) within a window. Which event probes is decided by a conditional
// write to a DynamoDB table (the AWS-native idempotency pattern): the first write of a key wins,
// the others read whose probe stands for them. The item's TTL attribute removes it after the
// window; the condition also treats an expired item as absent, since TTL deletes lazily (within
// days). No state in the function's memory decides it: concurrent invocations share nothing else.

// DynamoDB is the part of the DynamoDB client the responder calls; *dynamodb.Client implements it.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Table attribute names. The table's partition key is KeyAttribute (a string) and its TTL
// attribute is TTLAttribute (epoch seconds), as the template creates it.
const (
	KeyAttribute = "pk"
	TTLAttribute = "expires_at"
	attrRunID    = "run_id"
	attrEventID  = "event_id"
	attrStream   = "log_stream"
	attrVerdict  = "verdict"
	attrSubnet   = "subnet"
	attrClaimed  = "claimed_at"
)

// Claim is the record of the live probe standing for a cause.
type Claim struct {
	Key       string // the cause's key (CauseKey)
	RunID     string // the probe's run id: its report's run_id and launch id
	EventID   string // the event whose invocation probes
	LogStream string // where that invocation's report is written
	Verdict   string // the probe's verdict once it is known; empty while it runs
	Expires   time.Time
}

// CauseKey names a cause: the subnet, the security groups (in any order) and what the task
// definition needs probed (services, image, secrets, parameters, other regions). Two tasks with
// the same key take the same path, so one probe answers for both.
func CauseKey(subnet string, groups []string, n *needs.Needs) string {
	g := slices.Clone(groups)
	slices.Sort(g)
	parts := []string{"subnet=" + subnet, "groups=" + strings.Join(g, ",")}
	if n != nil {
		parts = append(parts, "region="+n.Region, "services="+strings.Join(n.Services, ","), "image="+registryOf(n.Image),
			"secrets="+sorted(n.Secrets), "parameters="+sorted(n.Parameters))
		for _, o := range n.OtherRegions {
			parts = append(parts, "other="+o.Region+":"+strings.Join(o.Services, ","))
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return "probe#" + hex.EncodeToString(sum[:16])
}

// registryOf keeps an image's registry: two images of one registry take one path (the
// registry's host, the layer bucket), whatever their repository and tag.
func registryOf(image string) string {
	host, _, _ := strings.Cut(image, "/")
	return host
}

func sorted(s []string) string {
	c := slices.Clone(s)
	slices.Sort(c)
	return strings.Join(c, ",")
}

// Claims records which event's probe stands for each cause, in Table.
type Claims struct {
	DB    DynamoDB
	Table string
}

// Claim tries to make c the probe standing for c.Key until c.Expires. It returns (c, true) when
// it won, or the standing claim and false when another event's probe already stands for the key.
func (s Claims) Claim(ctx context.Context, c Claim, now time.Time) (Claim, bool, error) {
	item := map[string]types.AttributeValue{
		KeyAttribute: &types.AttributeValueMemberS{Value: c.Key},
		attrRunID:    &types.AttributeValueMemberS{Value: c.RunID},
		attrEventID:  &types.AttributeValueMemberS{Value: c.EventID},
		attrStream:   &types.AttributeValueMemberS{Value: c.LogStream},
		attrClaimed:  &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		TTLAttribute: &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Expires.Unix(), 10)},
	}
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#k) OR #t < :now"),
		ExpressionAttributeNames: map[string]string{
			"#k": KeyAttribute, "#t": TTLAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		},
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return c, true, nil
	case !errors.As(err, &failed):
		return Claim{}, false, fmt.Errorf("dynamodb:PutItem %s: %w", s.Table, err)
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: c.Key}},
	})
	if err != nil {
		return Claim{}, false, fmt.Errorf("dynamodb:GetItem %s: %w", s.Table, err)
	}
	return claimOf(out.Item), false, nil
}

// Finish records the probe's verdict on its claim, for the events that link to it.
func (s Claims) Finish(ctx context.Context, c Claim, verdict string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: c.Key}},
		UpdateExpression:          aws.String("SET #v = :v"),
		ConditionExpression:       aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#v": attrVerdict, "#r": attrRunID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: verdict}, ":r": &types.AttributeValueMemberS{Value: c.RunID}},
	})
	if err != nil {
		return fmt.Errorf("dynamodb:UpdateItem %s: %w", s.Table, err)
	}
	return nil
}

// Release gives a claim up (its probe could not run), so that the next event of the cause probes.
func (s Claims) Release(ctx context.Context, c Claim) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: c.Key}},
		ConditionExpression:       aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#r": attrRunID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberS{Value: c.RunID}},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("dynamodb:DeleteItem %s: %w", s.Table, err)
	}
	return nil
}

func claimOf(item map[string]types.AttributeValue) Claim {
	str := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	c := Claim{Key: str(KeyAttribute), RunID: str(attrRunID), EventID: str(attrEventID), LogStream: str(attrStream), Verdict: str(attrVerdict)}
	if v, ok := item[TTLAttribute].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			c.Expires = time.Unix(n, 0)
		}
	}
	return c
}
