package checks

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretInput is the GetSecretValue request ECS makes for a task definition's valueFrom: a
// Secrets Manager ARN may end in ECS's own :json-key:version-stage:version-id suffix, which is
// not part of the secret's id. The JSON key only selects a field of the value (which the probe
// drops); the stage and version id select what is fetched, so they are passed on.
func secretInput(id string) *secretsmanager.GetSecretValueInput {
	in := &secretsmanager.GetSecretValueInput{SecretId: &id}
	f := strings.Split(id, ":")
	// arn:partition:secretsmanager:region:account:secret:name is 7 fields; ECS adds up to 3.
	if len(f) <= 7 || f[0] != "arn" || f[2] != "secretsmanager" || f[5] != "secret" {
		return in
	}
	base := strings.Join(f[:7], ":")
	in.SecretId = &base
	if len(f) > 8 && f[8] != "" {
		in.VersionStage = &f[8]
	}
	if len(f) > 9 && f[9] != "" {
		in.VersionId = &f[9]
	}
	return in
}
