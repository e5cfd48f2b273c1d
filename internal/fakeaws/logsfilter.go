package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// compileFilter turns a CloudWatch Logs filter pattern into a matcher. It understands the
// subset tests need: terms (all must appear, case-sensitive, "quoted phrases" as one term),
// ?term (at least one of them must appear), -term (must not appear), and JSON conditions
// { $.a.b = "v" && $.c != 3 }. An empty pattern matches every event.
func compileFilter(pattern string) (func(string) bool, *apiError) {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return func(string) bool { return true }, nil
	}
	invalid := &apiError{http.StatusBadRequest, "InvalidParameterException", "Invalid filter pattern"}
	if strings.HasPrefix(pattern, "{") {
		if !strings.HasSuffix(pattern, "}") {
			return nil, invalid
		}
		conds, ok := parseJSONConditions(strings.TrimSpace(pattern[1 : len(pattern)-1]))
		if !ok {
			return nil, invalid
		}
		return func(msg string) bool { return matchJSON(msg, conds) }, nil
	}
	terms, ok := splitTerms(pattern)
	if !ok {
		return nil, invalid
	}
	var all, anyOf, none []string
	for _, t := range terms {
		switch {
		case strings.HasPrefix(t, "?"):
			anyOf = append(anyOf, strings.Trim(t[1:], `"`))
		case strings.HasPrefix(t, "-"):
			none = append(none, strings.Trim(t[1:], `"`))
		default:
			all = append(all, strings.Trim(t, `"`))
		}
	}
	return func(msg string) bool {
		for _, t := range all {
			if !strings.Contains(msg, t) {
				return false
			}
		}
		for _, t := range none {
			if strings.Contains(msg, t) {
				return false
			}
		}
		if len(anyOf) == 0 {
			return true
		}
		for _, t := range anyOf {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}, nil
}

// splitTerms splits a pattern on spaces, keeping "quoted phrases" (with their quotes) whole.
func splitTerms(pattern string) ([]string, bool) {
	var terms []string
	var cur strings.Builder
	quoted := false
	for _, r := range pattern {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				terms = append(terms, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		terms = append(terms, cur.String())
	}
	return terms, !quoted
}

// jsonCondition is one "$.path op value" of a JSON filter pattern.
type jsonCondition struct {
	path  []string
	equal bool
	value string
}

// parseJSONConditions reads conditions joined by &&.
func parseJSONConditions(body string) ([]jsonCondition, bool) {
	var conds []jsonCondition
	for _, part := range strings.Split(body, "&&") {
		part = strings.TrimSpace(part)
		op, equal := "!=", false
		if !strings.Contains(part, "!=") {
			op, equal = "=", true
		}
		lhs, rhs, ok := strings.Cut(part, op)
		lhs, rhs = strings.TrimSpace(lhs), strings.TrimSpace(rhs)
		if !ok || !strings.HasPrefix(lhs, "$.") || rhs == "" {
			return nil, false
		}
		conds = append(conds, jsonCondition{path: strings.Split(lhs[2:], "."), equal: equal, value: strings.Trim(rhs, `"`)})
	}
	return conds, true
}

// matchJSON reports whether msg is a JSON object meeting every condition; values compare as
// text, so 3 matches both 3 and "3".
func matchJSON(msg string, conds []jsonCondition) bool {
	var doc any
	if json.Unmarshal([]byte(msg), &doc) != nil {
		return false
	}
	for _, c := range conds {
		v, found := doc, true
		for _, k := range c.path {
			obj, ok := v.(map[string]any)
			if !ok {
				found = false
				break
			}
			if v, ok = obj[k]; !ok {
				found = false
				break
			}
		}
		if !found {
			return false
		}
		if (fmt.Sprint(v) == c.value) != c.equal {
			return false
		}
	}
	return true
}
