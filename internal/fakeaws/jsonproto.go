package fakeaws

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxJSONBody bounds a JSON API request body. It is well above PutLogEvents' 1 MiB batch so the
// fake can answer that limit with the real InvalidParameterException instead of a read error.
const maxJSONBody = 16 << 20

// jsonOp is one operation of a JSON 1.1 service: it returns the output document or an error.
type jsonOp func(s *Server, c *call) (any, *apiError)

// jsonService is a JSON 1.1 service: its signing name (also its IAM prefix) and operations.
type jsonService struct {
	name string
	ops  map[string]jsonOp
}

// jsonServices maps an X-Amz-Target prefix to the service that answers it. Adding a service is
// one line here and one file with its operations.
var jsonServices = map[string]jsonService{
	"AmazonEC2ContainerRegistry_V20150921": {"ecr", ecrOps},
	"Logs_20140328":                        {"logs", logsOps},
	"secretsmanager":                       {"secretsmanager", secretsOps},
	"AmazonSSM":                            {"ssm", ssmOps},
	"AmazonEC2ContainerServiceV20141113":   {"ecs", ecsOps},
}

// call is one authenticated JSON API call.
type call struct {
	r    *http.Request
	body []byte
	who  caller
}

// decode unmarshals the request body into v, answering SerializationException as AWS does for
// a body that is not the operation's input shape.
func (c *call) decode(v any) *apiError {
	if len(c.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return &apiError{http.StatusBadRequest, "SerializationException", "Start of structure or map found where not expected."}
	}
	return nil
}

// authorize is Server.authorize for this call's caller.
func (c *call) authorize(s *Server, action, resource string) *apiError {
	return s.authorize(jsonProtocol, c.who, action, resource)
}

// serveJSON answers an AWS JSON 1.1 request: operation from X-Amz-Target, then authentication,
// then the operation. Coral resolves the operation first, so an unknown one is
// UnknownOperationException even without credentials.
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, rec *Request) {
	prefix, opName, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	svc, known := jsonServices[prefix]
	op := svc.ops[opName]
	if known {
		rec.Service = svc.name
		rec.Action = svc.name + ":" + opName
	}
	if op == nil || r.Method != http.MethodPost {
		writeJSONError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", ""})
		return
	}
	who, aerr := s.authenticate(r, jsonProtocol, svc.name, rec)
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		writeJSONError(w, &apiError{http.StatusRequestEntityTooLarge, "SerializationException", "Request body too large."})
		return
	}
	out, aerr := op(s, &call{r: r, body: body, who: who})
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeJSONError(w, &apiError{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	setRequestID(w)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// coralErrors are the errors the Coral front end answers before a service sees the call; their
// __type carries the front end's namespace, as on the wire.
var coralErrors = map[string]bool{
	"UnknownOperationException":           true,
	"MissingAuthenticationTokenException": true,
	"UnrecognizedClientException":         true,
	"InvalidSignatureException":           true,
	"IncompleteSignatureException":        true,
	"SerializationException":              true,
}

// writeJSONError answers e in the JSON 1.1 error shape: X-Amzn-ErrorType and {"__type","message"}.
func writeJSONError(w http.ResponseWriter, e *apiError) {
	typ, header := e.code, e.code
	if coralErrors[e.code] {
		typ = "com.amazon.coral.service#" + e.code
		header = e.code + ":http://internal.amazon.com/coral/com.amazon.coral.service/"
	}
	body := map[string]any{"__type": typ, "message": e.message}
	if e.message == "" {
		body["message"] = nil
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	setRequestID(w)
	w.Header().Set("X-Amzn-ErrorType", header)
	w.WriteHeader(e.status)
	w.Write(b)
}
