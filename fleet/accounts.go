package fleet

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// OrganizationsAPI is what fleet calls of AWS Organizations; *organizations.Client satisfies it.
type OrganizationsAPI interface {
	ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

var _ OrganizationsAPI = (*organizations.Client)(nil)

// Member is one account of the fleet: its id and, from Organizations, its name.
type Member struct {
	ID, Name string
}

// Organization lists the organisation's accounts whose State is ACTIVE (suspended and closing
// accounts cannot be read). Organizations' older Status field is retired (2026-09-09) and is
// not read. It must be called from the management account or a delegated administrator.
func Organization(ctx context.Context, c OrganizationsAPI) ([]Member, error) {
	var out []Member
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("fleet: organizations:ListAccounts: %w", err)
		}
		for _, a := range page.Accounts {
			if a.State == orgtypes.AccountStateActive {
				out = append(out, Member{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
			}
		}
	}
	return out, nil
}

// Opener returns the AWS configuration to read account with (its region is set per region by
// the caller). An error is the account's untested entry: ActionOf names the action denied.
type Opener func(ctx context.Context, account string) (aws.Config, error)

// sessionUnsafe is what a role session name may not hold ([\w+=,.@-], at most 64).
var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName is the role session name of a launch: vpcprobe-<launch id>, cut to STS's 64
// characters, so CloudTrail in every member account names the launch that acted there.
func SessionName(launchID string) string {
	s := "vpcprobe-" + sessionUnsafe.ReplaceAllString(launchID, "_")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// RoleARN is the role assumed in account: arn:<partition>:iam::<account>:role/<name>.
func RoleARN(partition, account, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role/" + name
}

// AssumeRole returns an Opener that assumes role roleName in each account with base's
// credentials (STS AssumeRole, the session named session), and whose clients retry in the SDK's
// adaptive mode, which slows down on throttling (EC2's and Lambda's request-rate limits are per
// account and region). The role is assumed at once, so a denial is that account's untested entry
// rather than a failure of each of its calls; the credentials are cached and refreshed.
func AssumeRole(base aws.Config, stsClient stscreds.AssumeRoleAPIClient, partition, roleName, session string) Opener {
	return func(ctx context.Context, account string) (aws.Config, error) {
		cfg := base.Copy()
		prov := stscreds.NewAssumeRoleProvider(stsClient, RoleARN(partition, account, roleName), func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = session
		})
		cfg.Credentials = aws.NewCredentialsCache(prov)
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return cfg, &actionError{action: "sts:AssumeRole", err: err}
		}
		cfg.Retryer = Adaptive(base)
		return cfg, nil
	}
}

// Adaptive returns a retryer factory in the SDK's adaptive mode (client-side rate limiting that
// backs off on throttling errors), keeping base's attempt count when it sets one.
func Adaptive(base aws.Config) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			if base.RetryMaxAttempts > 0 {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = base.RetryMaxAttempts })
			}
		})
	}
}

// Caller returns the base identity's own account as an Opener's fallback when no role is
// assumed: the fleet of one account read with the launcher's own credentials.
func Caller(base aws.Config) Opener {
	return func(ctx context.Context, account string) (aws.Config, error) {
		cfg := base.Copy()
		cfg.Retryer = Adaptive(base)
		return cfg, nil
	}
}

var _ stscreds.AssumeRoleAPIClient = (*sts.Client)(nil)

// actionError is a read that failed, with the IAM action it needed.
type actionError struct {
	action string
	err    error
}

func (e *actionError) Error() string { return e.action + ": " + apiError(e.err) }
func (e *actionError) Unwrap() error { return e.err }

// apiError is an error as AWS answered it: "Code: message", else the error's text.
func apiError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// untested builds the untested entry of err for account and region.
func untested(account, region, vpc, action string, err error) Untested {
	var ae *actionError
	if errors.As(err, &ae) {
		action, err = ae.action, ae.err
	}
	return Untested{Account: account, Region: region, VPCID: vpc, Action: action, Error: apiError(err)}
}
