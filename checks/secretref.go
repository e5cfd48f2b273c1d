package checks

import (
	"errors"
	"fmt"
	"strings"
)

// SecretRef is a Secrets Manager secret as a task definition's secrets[].valueFrom names it:
// the secret (name or ARN), and for an ARN the optional ECS suffix
// ":json-key:version-stage:version-id", each part of which may be empty.
type SecretRef struct {
	SecretID     string // the secret's name or ARN, without the ECS suffix: GetSecretValue's SecretId
	JSONKey      string // the key of the JSON SecretString whose value ECS injects; empty: the whole string
	VersionStage string // the staging label asked for; empty: AWSCURRENT
	VersionID    string // the version asked for; empty: the stage's
}

// ErrNotSecretsManager is ParseSecretRef's answer for an ARN of another service.
var ErrNotSecretsManager = errors.New("not a Secrets Manager ARN")

// ParseSecretRef reads a secret reference as ECS writes it: a name, a secret ARN
// (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>), or that ARN followed by
// ":json-key:version-stage:version-id" (ECS's valueFrom syntax; trailing parts may be left out).
// Names cannot hold a colon, so the suffix is read only after an ARN.
func ParseSecretRef(s string) (SecretRef, error) {
	if !strings.HasPrefix(s, "arn:") {
		if s == "" || strings.Contains(s, ":") {
			return SecretRef{}, fmt.Errorf("%q: a secret name has no colon; give the secret's ARN to select a JSON key or version", s)
		}
		return SecretRef{SecretID: s}, nil
	}
	f := strings.Split(s, ":")
	switch {
	case len(f) < 6 || f[1] == "" || f[2] == "":
		return SecretRef{}, fmt.Errorf("%q: not an ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", s)
	case f[2] != "secretsmanager":
		return SecretRef{}, fmt.Errorf("%q: %w (its service is %s)", s, ErrNotSecretsManager, f[2])
	case len(f) < 7 || f[5] != "secret" || f[6] == "":
		return SecretRef{}, fmt.Errorf("%q: not a secret's ARN (…:secret:NAME)", s)
	case len(f) > 10:
		return SecretRef{}, fmt.Errorf("%q: too many fields: ECS reads ARN:json-key:version-stage:version-id", s)
	}
	r := SecretRef{SecretID: strings.Join(f[:7], ":")}
	parts := append(f[7:], "", "", "")
	r.JSONKey, r.VersionStage, r.VersionID = parts[0], parts[1], parts[2]
	return r, nil
}
