package needs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/couldnottest"
)

// ErrUnreadable wraps every failure to read a task definition through the ECS API: the call
// failed (no route to the ECS endpoint, a missing ecs:DescribeTaskDefinition, no such task
// definition), so nothing could be derived and nothing tested. Commands exit 3 (could not test)
// on it; a bad file:// path or file is a usage error instead. It matches (errors.Is)
// couldnottest.Err, the one sentinel of "could not test" every runner returns.
var ErrUnreadable error = unreadable{}

type unreadable struct{}

func (unreadable) Error() string { return "task definition unreadable" }

// Is makes ErrUnreadable a case of couldnottest.Err.
func (unreadable) Is(target error) bool { return target == couldnottest.Err }

// FilePrefix starts a reference to a task definition file rather than one registered in ECS.
const FilePrefix = "file://"

// TaskDefinitionAPI is the part of the ECS client that reads a task definition; *ecs.Client
// implements it.
type TaskDefinitionAPI interface {
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// Load reads the task definition ref names and derives its needs. ref is an ARN, family or
// family:revision (read with client: the call's failure wraps ErrUnreadable), or file://path to
// the JSON of a task definition (Parse). o.Region is the probe's region, used when the task
// definition has no ARN.
func Load(ctx context.Context, client TaskDefinitionAPI, ref string, o Options) (*Needs, error) {
	if path, ok := strings.CutPrefix(ref, FilePrefix); ok {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read task definition file: %w", err)
		}
		td, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return Derive(td, o), nil
	}
	if strings.TrimSpace(ref) == "" {
		return nil, errors.New("no task definition named: give an ARN, family[:revision] or file://path.json")
	}
	td, err := Describe(ctx, client, ref)
	if err != nil {
		return nil, err
	}
	return Derive(td, o), nil
}

// Describe reads a registered task definition (ARN, family or family:revision) with
// ecs:DescribeTaskDefinition. Its errors wrap ErrUnreadable.
func Describe(ctx context.Context, client TaskDefinitionAPI, ref string) (*types.TaskDefinition, error) {
	out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		return nil, fmt.Errorf("%w: ecs:DescribeTaskDefinition %s: %w", ErrUnreadable, ref, err)
	}
	if out.TaskDefinition == nil {
		return nil, fmt.Errorf("%w: ecs:DescribeTaskDefinition %s answered no task definition", ErrUnreadable, ref)
	}
	return out.TaskDefinition, nil
}

// timeFields are the task definition's timestamps. The API's JSON gives them as epoch seconds,
// which encoding/json cannot put in the SDK's time.Time fields; nothing here needs them.
var timeFields = []string{"registeredAt", "deregisteredAt", "deleteRequestedAt"}

// Parse decodes the JSON of a task definition: what `aws ecs describe-task-definition` prints
// ({"taskDefinition": {…}}) or the task definition itself (a register-task-definition input, a
// file in taskdef/). It decodes into the SDK's types, whose field names match the API's member
// names without regard to case, so that Derive sees a file exactly as it sees the API's answer.
func Parse(data []byte) (*types.TaskDefinition, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not the JSON of a task definition: %w", plainError(err))
	}
	if inner, ok := top["taskDefinition"]; ok {
		top = nil
		if err := json.Unmarshal(inner, &top); err != nil {
			return nil, errors.New("taskDefinition is not an object")
		}
	}
	quoteNumbers(top)
	if _, ok := top["containerDefinitions"]; !ok {
		return nil, errors.New("no containerDefinitions: not a task definition (want the output of aws ecs describe-task-definition, or a register-task-definition input)")
	}
	for _, k := range timeFields {
		delete(top, k)
	}
	clean, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("task definition: %w", err)
	}
	var td types.TaskDefinition
	dec := json.NewDecoder(bytes.NewReader(clean))
	if err := dec.Decode(&td); err != nil {
		return nil, fmt.Errorf("task definition: %w", plainError(err))
	}
	return &td, nil
}
