package fakeaws

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// secretsOps are the Secrets Manager operations the fake answers.
var secretsOps = map[string]jsonOp{
	"GetSecretValue": (*Server).secretsGetSecretValue,
}

// ssmOps are the SSM operations the fake answers.
var ssmOps = map[string]jsonOp{
	"GetParameters": (*Server).ssmGetParameters,
	"GetParameter":  (*Server).ssmGetParameter,
}

// secretARN is a secret's ARN; Secrets Manager appends six random characters to the name, here
// derived from it so the ARN is stable.
func (s *Server) secretARN(name string) string {
	cfg := s.config()
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", cfg.Region, cfg.Account, name, hex.EncodeToString(sum[:])[:6])
}

// secretName reads a SecretId: a name, a full ARN, or an ARN without the random suffix.
func (s *Server) secretName(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	_, name, _ := strings.Cut(id, ":secret:")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cfg.Secrets[name]; ok {
		return name
	}
	if i := strings.LastIndex(name, "-"); i > 0 && len(name)-i == 7 {
		return name[:i]
	}
	return name
}

func (s *Server) secretsGetSecretValue(c *call) (any, *apiError) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	name := s.secretName(in.SecretID)
	arn := s.secretARN(name)
	if aerr := c.authorize(s, "secretsmanager:GetSecretValue", arn); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	value, ok := s.cfg.Secrets[name]
	s.mu.Unlock()
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
	}
	version := stableUUID("version/" + name)
	if (in.VersionStage != "" && in.VersionStage != "AWSCURRENT") || (in.VersionID != "" && in.VersionID != version) {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret value for VersionId or staging label."}
	}
	return map[string]any{
		"ARN":           arn,
		"Name":          name,
		"VersionId":     version,
		"SecretString":  value,
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(layerModTime.Unix()),
	}, nil
}

// stableUUID derives a UUID-shaped id from seed.
func stableUUID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// parameterName reads a parameter name or ARN (arn:aws:ssm:<r>:<a>:parameter/<name>), dropping
// a :version or :label selector. From an ARN it keeps the leading slash; lookupParameter also
// tries without it, because "name" and "/name" share an ARN.
func parameterName(id string) string {
	if strings.HasPrefix(id, "arn:") {
		_, id, _ = strings.Cut(id, ":parameter")
	}
	if i := strings.LastIndex(id, ":"); i > 0 {
		id = id[:i]
	}
	return id
}

// parameterARN is a parameter's ARN.
func (s *Server) parameterARN(name string) string {
	cfg := s.config()
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", cfg.Region, cfg.Account, strings.TrimPrefix(name, "/"))
}

// parameter is SSM's Parameter shape.
type parameter struct {
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Version          int     `json:"Version"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
}

// lookupParameter finds a parameter by name or ARN.
func (s *Server) lookupParameter(id string) (parameter, bool) {
	name := parameterName(id)
	s.mu.Lock()
	value, ok := s.cfg.Parameters[name]
	if !ok && strings.HasPrefix(id, "arn:") {
		name = strings.TrimPrefix(name, "/")
		value, ok = s.cfg.Parameters[name]
	}
	s.mu.Unlock()
	if !ok {
		return parameter{}, false
	}
	return parameter{Name: name, Type: "String", Value: value, Version: 1,
		LastModifiedDate: float64(layerModTime.Unix()), ARN: s.parameterARN(name), DataType: "text"}, true
}

// ssmGetParameters returns the parameters found and lists the other names as InvalidParameters,
// as SSM does; at most 10 names.
func (s *Server) ssmGetParameters(c *call) (any, *apiError) {
	var in struct {
		Names          []string `json:"Names"`
		WithDecryption bool     `json:"WithDecryption"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, &apiError{http.StatusBadRequest, "ValidationException", fmt.Sprintf(
			"1 validation error detected: Value '%v' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1", in.Names)}
	}
	for _, n := range in.Names {
		if aerr := c.authorize(s, "ssm:GetParameters", s.parameterARN(parameterName(n))); aerr != nil {
			return nil, aerr
		}
	}
	found, invalid := []parameter{}, []string{}
	for _, n := range in.Names {
		if p, ok := s.lookupParameter(n); ok {
			found = append(found, p)
		} else {
			invalid = append(invalid, n)
		}
	}
	return map[string]any{"Parameters": found, "InvalidParameters": invalid}, nil
}

func (s *Server) ssmGetParameter(c *call) (any, *apiError) {
	var in struct {
		Name string `json:"Name"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "ssm:GetParameter", s.parameterARN(parameterName(in.Name))); aerr != nil {
		return nil, aerr
	}
	p, ok := s.lookupParameter(in.Name)
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "ParameterNotFound", ""}
	}
	return map[string]any{"Parameter": p}, nil
}
