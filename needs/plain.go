package needs

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Task definitions as people keep them: files in repositories are not always what
// register-task-definition accepts byte for byte, and a diagnostic reads what people have.

// numericStrings are the task-level members the ECS API types as strings ("256", "0.25 vCPU",
// "1 GB") that files often give as numbers: terraform's aws_ecs_task_definition takes
// cpu = 1024 (public repositories do, e.g. ChenChihChiang/terraform-cloud task_definition.tf),
// and JSON rendered from it keeps the number.
var numericStrings = []string{"cpu", "memory"}

// quoteNumbers turns the numeric strings of top that are JSON numbers into JSON strings.
func quoteNumbers(top map[string]json.RawMessage) {
	for _, k := range numericStrings {
		raw, ok := top[k]
		if !ok {
			continue
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			continue // a string already, or something plainError will name
		}
		top[k], _ = json.Marshal(n.String())
	}
}

// plainError says in plain words which field of a task definition could not be read and why,
// without Go's decoder's vocabulary (no "cannot unmarshal … into Go struct field").
func plainError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := memberPath(typeErr.Field)
		if field == "" {
			field = "the task definition"
		}
		return fmt.Errorf("%s is %s, where the task definition wants %s", field, jsonKind(typeErr.Value), goKind(typeErr.Type))
	case errors.As(err, &syntaxErr) && strings.Contains(syntaxErr.Error(), "end of JSON input"):
		return errors.New("not valid JSON: the text ends before the task definition does")
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("not valid JSON: a stray character at byte %d", syntaxErr.Offset)
	}
	return err
}

// jsonKind names the kind of JSON value the decoder found (UnmarshalTypeError.Value).
func jsonKind(v string) string {
	switch {
	case v == "string":
		return "text"
	case v == "number", strings.HasPrefix(v, "number "):
		return "a number"
	case v == "bool":
		return "true or false"
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	}
	return "a " + v
}

// goKind names the kind of value a field wants, in the words of JSON.
func goKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another kind of value"
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}

// memberPath turns the decoder's path of Go field names (ContainerDefinitions.Memory) into the
// API's member names a file uses (containerDefinitions.memory): the SDK's field names are the
// members' names with the first letter raised.
func memberPath(goPath string) string {
	parts := strings.Split(goPath, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToLower(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".")
}
