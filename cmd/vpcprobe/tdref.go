package main

// --for-task-definition takes a path as a path: "./td.json" or "/path/td.json" is the file when
// one is there, as a user who just ran `aws ecs describe-task-definition > td.json` expects,
// not a family ECS is asked for (and would not know). file://path still works.

import (
	"os"
	"strings"

	"github.com/vpcprobe/vpcprobe/needs"
)

// familyRE is a task definition family, optionally with its revision: "Up to 255 letters
// (uppercase and lowercase), numbers, underscores, and hyphens are allowed"
// (RegisterTaskDefinition, family; https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html).
var familyRE = lazyRE(`^[A-Za-z0-9_-]{1,255}(:[0-9]+)?$`)

// taskDefinitionRef returns the reference needs.Load takes for the value of
// --for-task-definition: file://PATH for an existing file (or a value already file://), the value
// itself for an ARN or a family[:revision] that is no file here, and a usage error for what is
// neither (a path to a file that is not there: "./td.jsn").
func taskDefinitionRef(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.HasPrefix(v, needs.FilePrefix) {
		return v, nil
	}
	if fi, err := os.Stat(v); err == nil && fi.Mode().IsRegular() {
		return needs.FilePrefix + v, nil
	}
	if strings.HasPrefix(v, "arn:") || familyRE.MatchString(v) {
		return v, nil
	}
	return v, usagef("--for-task-definition %s: no such file, and not a task definition ARN or family[:revision] (example: ./td.json, file://td.json, my-app:7)", v)
}
