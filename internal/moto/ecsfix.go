package moto

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// FixECS returns a transport that mends one wire bug of moto 5.2's ECS: a task's containers carry cpu and memory as
// JSON numbers where the API (and so the SDK's deserializer) has strings. It rewrites them in
// RunTask and DescribeTasks answers, and touches nothing else.
func FixECS(next http.RoundTripper) http.RoundTripper { return ecsTasks{next} }

type ecsTasks struct{ next http.RoundTripper }

func (m ecsTasks) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := m.next.RoundTrip(r)
	target := r.Header.Get("X-Amz-Target")
	if err != nil || !(strings.HasSuffix(target, ".RunTask") || strings.HasSuffix(target, ".DescribeTasks")) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		tasks, _ := doc["tasks"].([]any)
		for _, t := range tasks {
			tm, _ := t.(map[string]any)
			cs, _ := tm["containers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				for _, k := range []string{"cpu", "memory"} {
					if n, ok := cm[k].(float64); ok {
						cm[k] = strconv.FormatFloat(n, 'f', -1, 64)
					}
				}
			}
		}
		body, _ = json.Marshal(doc)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}
