package responder

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Slots caps the probe functions alive at once in the account: each live probe holds one of Max
// lease items in the claims table while its function exists. A lease carries its own expiry (the
// probe's launch deadline plus slack), so a responder that crashed holding one frees it by time,
// not by a cleanup that may never run. Reserved concurrency bounds the responder's invocations;
// this bounds the functions they create, whatever the concurrency (and across regions sharing
// the table).
type Slots struct {
	DB    DynamoDB
	Table string
	Max   int
}

// ErrNoSlot is Acquire's error when every slot stayed taken until ctx ended.
var ErrNoSlot = errors.New("every probe slot is taken")

// slotPoll is the first wait between rounds of Acquire; it doubles up to slotPollMax.
const (
	slotPoll    = 200 * time.Millisecond
	slotPollMax = 2 * time.Second
)

// Acquire takes a free slot for holder until expires, waiting for one while ctx lasts. It returns
// the slot's key, for Release.
func (s Slots) Acquire(ctx context.Context, holder string, expires time.Time, now func() time.Time) (string, error) {
	wait := slotPoll
	for {
		for i := range max(s.Max, 1) {
			key := "slot#" + strconv.Itoa(i)
			_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(s.Table),
				Item: map[string]types.AttributeValue{
					KeyAttribute: &types.AttributeValueMemberS{Value: key},
					attrRunID:    &types.AttributeValueMemberS{Value: holder},
					TTLAttribute: &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
				},
				ConditionExpression:      aws.String("attribute_not_exists(#k) OR #t < :now"),
				ExpressionAttributeNames: map[string]string{"#k": KeyAttribute, "#t": TTLAttribute},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now().Unix(), 10)},
				},
			})
			var taken *types.ConditionalCheckFailedException
			switch {
			case err == nil:
				return key, nil
			case ctx.Err() != nil: // the wait ended during a call
				return "", fmt.Errorf("%w (%d): %w", ErrNoSlot, max(s.Max, 1), context.Cause(ctx))
			case !errors.As(err, &taken):
				return "", fmt.Errorf("dynamodb:PutItem %s: %w", s.Table, err)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("%w (%d): %w", ErrNoSlot, max(s.Max, 1), context.Cause(ctx))
		case <-t.C:
		}
		wait = min(2*wait, slotPollMax)
	}
}

// Release frees slot key if holder still holds it. It runs after the launch, under a context of
// its own: a slot must be freed even when the invocation's context has ended.
func (s Slots) Release(ctx context.Context, key, holder string) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: key}},
		ConditionExpression:       aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#r": attrRunID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberS{Value: holder}},
	})
	var gone *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("dynamodb:DeleteItem %s: %w", s.Table, err)
	}
	return nil
}
