package lambdafn

import (
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// AccountOfFunction is the account a function's ARN names, the default registry account of a
// probe running in it (CONTRACT.md, "The Lambda event and response": as a task's ARN does, the
// function's names its account, for ecr.dkr when STS is out of reach); empty when arn names none.
func AccountOfFunction(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) > 4 && catalogue.ValidAccount(parts[4]) {
		return parts[4]
	}
	return ""
}
