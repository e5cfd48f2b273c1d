package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// ExpiresTag is the tag of every function a launch creates: when it is past (RFC 3339), the
// launch that created it has ended, so a function still there was left by a launch that crashed
// (or a Lambda timeout that cut its cleanup), and SweepExpired deletes it.
const ExpiresTag = "vpcprobe:expires"

// functionPrefix starts the name of every function a launch creates.
const functionPrefix = "vpcprobe-"

// Lister is the part of the Lambda client SweepExpired calls besides DeleteFunction;
// *lambda.Client implements it.
type Lister interface {
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, opts ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	ListTags(ctx context.Context, in *lambda.ListTagsInput, opts ...func(*lambda.Options)) (*lambda.ListTagsOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, opts ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// SweepExpired deletes the functions a launch created (named vpcprobe-…, tagged ExpiresTag) whose
// expiry is before now, and returns their names. A function without the tag is never touched: it
// is someone's own (--function-name). ListFunctions does not return tags, so each candidate's are
// read with ListTags.
func SweepExpired(ctx context.Context, client Lister, now time.Time) ([]string, error) {
	var deleted []string
	var errs []error
	p := lambda.NewListFunctionsPaginator(client, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return deleted, fmt.Errorf("lambda:ListFunctions: %w", err)
		}
		for _, fn := range page.Functions {
			if !strings.HasPrefix(aws.ToString(fn.FunctionName), functionPrefix) {
				continue
			}
			tags, err := client.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn})
			if err != nil {
				errs = append(errs, fmt.Errorf("lambda:ListTags %s: %w", aws.ToString(fn.FunctionName), err))
				continue
			}
			exp, err := time.Parse(time.RFC3339, tags.Tags[ExpiresTag])
			if err != nil || !exp.Before(now) {
				continue
			}
			_, err = client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn.FunctionName})
			var gone *lambdatypes.ResourceNotFoundException
			switch {
			case err == nil, errors.As(err, &gone):
				deleted = append(deleted, aws.ToString(fn.FunctionName))
			default:
				errs = append(errs, fmt.Errorf("lambda:DeleteFunction %s: %w", aws.ToString(fn.FunctionName), err))
			}
		}
	}
	return deleted, errors.Join(errs...)
}
