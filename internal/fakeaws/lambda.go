package fakeaws

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Lambda control plane and Invoke, in Lambda's REST-JSON protocol (paths under /2015-03-31,
// errors as X-Amzn-ErrorType with {"Type", "message"}), so that the SDK's lambda client and its
// FunctionActive waiters work against it. Invoke runs the function's real code in a Sandbox. moto
// has a Lambda too, but its Invoke runs the code in a Docker container, and no Docker daemon
// serves these machines' tests: this one runs the bootstrap as a process, where the lab puts it.

// Function is a function as CreateFunction made it, with what a Sandbox needs to run it.
type Function struct {
	Name, ARN     string
	Role          string // execution role ARN
	Runtime       string
	Handler       string
	Architectures []string
	Timeout       int // seconds
	MemorySize    int // MB
	Environment   map[string]string
	Tags          map[string]string // CreateFunction's tags, as ListTags answers them
	SubnetIDs     []string
	GroupIDs      []string
	// IPv6ForDualStack is VpcConfig.Ipv6AllowedForDualStack: outbound IPv6 from a dual-stack subnet.
	IPv6ForDualStack bool
	Code             []byte // the zip
	Region           string
	// The role's temporary credentials, as Lambda puts them in the environment; the fake knows
	// the access key as the role's session.
	AccessKey, SecretKey, SessionToken string
}

// env is the environment Lambda gives a provided.* runtime's bootstrap, without the host's.
func (fn Function) env(runtimeAPI, taskRoot string) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + fn.Region,
		"AWS_DEFAULT_REGION=" + fn.Region,
		"AWS_EXECUTION_ENV=AWS_Lambda_" + fn.Runtime,
		"AWS_ACCESS_KEY_ID=" + fn.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + fn.SecretKey,
		"AWS_SESSION_TOKEN=" + fn.SessionToken,
		"_HANDLER=" + fn.Handler,
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"LAMBDA_RUNTIME_DIR=" + taskRoot,
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"TZ=:UTC",
	}
	for k, v := range fn.Environment {
		env = append(env, k+"="+v)
	}
	return env
}

func (fn Function) timeout() time.Duration {
	if fn.Timeout <= 0 {
		return 3 * time.Second // Lambda's default
	}
	return time.Duration(fn.Timeout) * time.Second
}

// Invoker runs one invocation of fn; *Sandbox.Invoke is one.
type Invoker func(ctx context.Context, fn Function, payload []byte) (InvokeResult, error)

// lambdaState is one Server's functions; like ecsState it has its own lock, never held while
// taking s.mu.
type lambdaState struct {
	mu      sync.Mutex
	invoke  Invoker
	pending int // GetFunction(Configuration) answers that still say Pending after a create
	fns     map[string]*lambdaFn
	created []string // every function ever created, in order
}

type lambdaFn struct {
	Function
	reads        int // reads since creation: the state turns Active after pending of them
	lastModified string
	codeSHA      string
	invokes      int
}

var lambdaStates sync.Map // *Server → *lambdaState

func (s *Server) lambda() *lambdaState {
	v, _ := lambdaStates.LoadOrStore(s, &lambdaState{fns: map[string]*lambdaFn{}, pending: 1})
	return v.(*lambdaState)
}

// RunFunctions makes Invoke run functions with invoke (a Sandbox's Invoke). Without it Invoke
// answers ServiceException: nothing can run the code.
func (s *Server) RunFunctions(invoke Invoker) {
	st := s.lambda()
	st.mu.Lock()
	st.invoke = invoke
	st.mu.Unlock()
}

// SetFunctionPending sets how many GetFunction or GetFunctionConfiguration answers a new
// function stays Pending for (1 unless set), as Lambda is while it creates the function's
// network interfaces; Invoke answers ResourceConflictException meanwhile.
func (s *Server) SetFunctionPending(reads int) {
	st := s.lambda()
	st.mu.Lock()
	st.pending = reads
	st.mu.Unlock()
}

// Functions returns the functions that exist now, by name, sorted.
func (s *Server) Functions() []Function {
	st := s.lambda()
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []Function
	for _, f := range st.fns {
		out = append(out, f.Function)
	}
	slices.SortFunc(out, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// FunctionsCreated returns the names of every function created so far, deleted or not.
func (s *Server) FunctionsCreated() []string {
	st := s.lambda()
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.created...)
}

// lambdaProtocol is Lambda's spelling of the shared failures: REST-JSON, 403 for
// authentication and authorization.
var lambdaProtocol = protocol{
	missingAuth:    "MissingAuthenticationTokenException",
	unknownKey:     "UnrecognizedClientException",
	badSignature:   "InvalidSignatureException",
	incomplete:     "IncompleteSignatureException",
	denied:         "AccessDeniedException",
	throttled:      "TooManyRequestsException",
	missingAuthMsg: "Missing Authentication Token",
	authStatus:     http.StatusForbidden,
	deniedStatus:   http.StatusForbidden,
}

// lambdaPath is the prefix of every Lambda API path this fake answers but ListTags', which is
// tagsPath followed by the function's ARN.
const (
	lambdaPath = "/2015-03-31/functions"
	tagsPath   = "/2017-03-31/tags/"
)

// isLambdaRequest reports whether r is a Lambda API call: REST-JSON, routed by path.
func isLambdaRequest(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, lambdaPath) || strings.HasPrefix(r.URL.Path, tagsPath)
}

var (
	functionNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	roleARNRE      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
)

// serveLambda answers a Lambda API request.
func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request, rec *Request) {
	rec.Service = "lambda"
	rest := strings.TrimPrefix(r.URL.Path, lambdaPath)
	var name, sub string
	if arn, ok := strings.CutPrefix(r.URL.EscapedPath(), tagsPath); ok { // ListTags: the ARN is the path
		name, _ = url.PathUnescape(arn)
		sub, rest = "tags", ""
	}
	if rest != "" && rest != "/" {
		parts := strings.SplitN(strings.TrimPrefix(rest, "/"), "/", 2)
		name, _ = url.PathUnescape(parts[0])
		if len(parts) == 2 {
			sub = strings.TrimSuffix(parts[1], "/")
		}
	}
	var op func(*Server, http.ResponseWriter, *call, string)
	var action string
	switch {
	case name == "" && r.Method == http.MethodPost:
		op, action = (*Server).lambdaCreate, "CreateFunction"
	case name == "" && r.Method == http.MethodGet:
		op, action = (*Server).lambdaList, "ListFunctions"
	case name != "" && sub == "tags" && r.Method == http.MethodGet:
		op, action = (*Server).lambdaListTags, "ListTags"
	case name != "" && sub == "" && r.Method == http.MethodGet:
		op, action = (*Server).lambdaGet, "GetFunction"
	case name != "" && sub == "configuration" && r.Method == http.MethodGet:
		op, action = (*Server).lambdaGetConfiguration, "GetFunctionConfiguration"
	case name != "" && sub == "invocations" && r.Method == http.MethodPost:
		op, action = (*Server).lambdaInvoke, "InvokeFunction"
	case name != "" && sub == "" && r.Method == http.MethodDelete:
		op, action = (*Server).lambdaDelete, "DeleteFunction"
	default:
		writeLambdaError(w, &apiError{http.StatusNotFound, "UnknownOperationException", "Unknown operation"})
		return
	}
	rec.Action = "lambda:" + action
	who, aerr := s.authenticate(r, lambdaProtocol, "lambda", rec)
	if aerr != nil {
		writeLambdaError(w, aerr)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 70<<20))
	if err != nil {
		writeLambdaError(w, &apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 70167211 bytes for the CreateFunction operation"})
		return
	}
	c := &call{r: r, body: body, who: who}
	if action != "CreateFunction" && action != "ListFunctions" {
		name = s.lambdaName(name)
		if aerr := c.authorize(s, "lambda:"+action, s.functionARN(name)); aerr != nil {
			aerr.status = lambdaProtocol.deniedStatus
			if aerr.code == "ThrottlingException" {
				aerr.code, aerr.status = lambdaProtocol.throttled, http.StatusTooManyRequests
			}
			writeLambdaError(w, aerr)
			return
		}
	}
	setRequestID(w)
	op(s, w, c, name)
}

// lambdaName accepts a function's name, its ARN, or its partial ARN (account:function:name).
func (s *Server) lambdaName(name string) string {
	if i := strings.LastIndex(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
	}
	name, _, _ = strings.Cut(name, ":") // a qualifier; only $LATEST exists here
	return name
}

func (s *Server) functionARN(name string) string {
	cfg := s.config()
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, cfg.Account, name)
}

// createFunctionIn is CreateFunction's input, as far as the fake reads it.
type createFunctionIn struct {
	FunctionName  string
	Role          string
	Runtime       string
	Handler       string
	Architectures []string
	Timeout       int
	MemorySize    int
	Code          struct{ ZipFile []byte }
	Environment   *struct{ Variables map[string]string }
	VpcConfig     *struct {
		SubnetIds, SecurityGroupIds []string
		Ipv6AllowedForDualStack     bool
	}
	Tags map[string]string
}

// functionConfiguration is Lambda's FunctionConfiguration document.
type functionConfiguration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string
	Role             string
	Handler          string
	CodeSize         int64
	CodeSha256       string
	Timeout          int
	MemorySize       int
	LastModified     string
	Version          string
	PackageType      string
	Architectures    []string
	State            string
	StateReason      string `json:",omitempty"`
	StateReasonCode  string `json:",omitempty"`
	LastUpdateStatus string
	VpcConfig        *vpcConfigOut `json:",omitempty"`
	Environment      *struct {
		Variables map[string]string
	} `json:",omitempty"`
}

type vpcConfigOut struct {
	SubnetIds               []string
	SecurityGroupIds        []string
	VpcId                   string
	Ipv6AllowedForDualStack bool
}

func (s *Server) lambdaCreate(w http.ResponseWriter, c *call, _ string) {
	var in createFunctionIn
	if err := json.Unmarshal(c.body, &in); err != nil {
		writeLambdaError(w, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "Could not parse request body into json"})
		return
	}
	m := roleARNRE.FindStringSubmatch(in.Role)
	switch {
	case !functionNameRE.MatchString(in.FunctionName):
		writeLambdaError(w, lambdaValidation("functionName", in.FunctionName, "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+"))
		return
	case m == nil:
		writeLambdaError(w, lambdaValidation("role", in.Role, "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"))
		return
	case len(in.Code.ZipFile) == 0:
		writeLambdaError(w, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "Please provide a source for function code."})
		return
	case !strings.HasPrefix(in.Runtime, "provided"):
		writeLambdaError(w, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "The runtime parameter of " + in.Runtime + " is not supported by this fake: only OS-only runtimes (provided.al2023) run a bootstrap."})
		return
	}
	for _, a := range in.Architectures {
		if a != "x86_64" && a != "arm64" {
			writeLambdaError(w, lambdaValidation("architectures", a, "Member must satisfy enum value set: [x86_64, arm64]"))
			return
		}
	}
	if len(in.Architectures) > 1 {
		writeLambdaError(w, lambdaValidation("architectures", strings.Join(in.Architectures, ","), "Member must have length less than or equal to 1"))
		return
	}
	fnARN := s.functionARN(in.FunctionName)
	if aerr := c.authorize(s, "lambda:CreateFunction", fnARN); aerr != nil {
		aerr.status = lambdaProtocol.deniedStatus
		writeLambdaError(w, aerr)
		return
	}
	if aerr := c.authorize(s, "iam:PassRole", in.Role); aerr != nil {
		aerr.status = lambdaProtocol.deniedStatus
		writeLambdaError(w, aerr)
		return
	}
	if in.Timeout == 0 {
		in.Timeout = 3
	}
	if in.MemorySize == 0 {
		in.MemorySize = 128
	}
	if len(in.Architectures) == 0 {
		in.Architectures = []string{"x86_64"}
	}
	cfg := s.config()
	fn := &lambdaFn{Function: Function{
		Name: in.FunctionName, ARN: fnARN, Role: in.Role, Runtime: in.Runtime, Handler: in.Handler,
		Architectures: in.Architectures, Timeout: in.Timeout, MemorySize: in.MemorySize,
		Code: in.Code.ZipFile, Region: cfg.Region, Tags: in.Tags,
		AccessKey: "ASIA" + strings.ToUpper(randomHex(8)), SecretKey: randomHex(20), SessionToken: randomHex(32),
	}, lastModified: s.now().Format("2006-01-02T15:04:05.000-0700")}
	sum := sha256.Sum256(in.Code.ZipFile)
	fn.codeSHA = base64.StdEncoding.EncodeToString(sum[:])
	if in.Environment != nil {
		fn.Environment = in.Environment.Variables
	}
	if in.VpcConfig != nil {
		fn.SubnetIDs, fn.GroupIDs = in.VpcConfig.SubnetIds, in.VpcConfig.SecurityGroupIds
		fn.IPv6ForDualStack = in.VpcConfig.Ipv6AllowedForDualStack
		if len(fn.SubnetIDs) > 0 && len(fn.GroupIDs) == 0 {
			writeLambdaError(w, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "SecurityGroupIds cannot be empty when SubnetIds are provided."})
			return
		}
	}

	st := s.lambda()
	st.mu.Lock()
	if _, ok := st.fns[fn.Name]; ok {
		st.mu.Unlock()
		writeLambdaError(w, &apiError{http.StatusConflict, "ResourceConflictException", "Function already exist: " + fn.Name})
		return
	}
	st.fns[fn.Name] = fn
	st.created = append(st.created, fn.Name)
	out := s.configurationOf(fn, st.pending)
	st.mu.Unlock()

	// The function's role session: what its calls authenticate as.
	s.mu.Lock()
	s.cfg.AccessKeys[fn.AccessKey] = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", cfg.Account, m[1], fn.Name)
	s.mu.Unlock()
	writeLambdaJSON(w, http.StatusCreated, out)
}

// configurationOf is fn's FunctionConfiguration; st.mu is held.
func (s *Server) configurationOf(fn *lambdaFn, pending int) functionConfiguration {
	out := functionConfiguration{
		FunctionName: fn.Name, FunctionArn: fn.ARN, Runtime: fn.Runtime, Role: fn.Role, Handler: fn.Handler,
		CodeSize: int64(len(fn.Code)), CodeSha256: fn.codeSHA, Timeout: fn.Timeout, MemorySize: fn.MemorySize,
		LastModified: fn.lastModified, Version: "$LATEST", PackageType: "Zip", Architectures: fn.Architectures,
		State: "Active", LastUpdateStatus: "Successful",
	}
	if fn.reads < pending {
		out.State, out.StateReason, out.StateReasonCode = "Pending", "The function is being created.", "Creating"
		out.LastUpdateStatus = "InProgress"
	}
	s.failedAs(&out)
	if len(fn.SubnetIDs) > 0 {
		out.VpcConfig = &vpcConfigOut{SubnetIds: fn.SubnetIDs, SecurityGroupIds: fn.GroupIDs, VpcId: "vpc-0fa1e0000000000001", Ipv6AllowedForDualStack: fn.IPv6ForDualStack}
	}
	if fn.Environment != nil {
		out.Environment = &struct{ Variables map[string]string }{fn.Environment}
	}
	return out
}

// read returns the named function's configuration, counting the read towards Active.
func (s *Server) lambdaRead(w http.ResponseWriter, name string) (functionConfiguration, bool) {
	st := s.lambda()
	st.mu.Lock()
	defer st.mu.Unlock()
	fn, ok := st.fns[name]
	if !ok {
		writeLambdaError(w, s.notFound(name))
		return functionConfiguration{}, false
	}
	out := s.configurationOf(fn, st.pending)
	fn.reads++
	return out, true
}

func (s *Server) notFound(name string) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFoundException", "Function not found: " + s.functionARN(name)}
}

func (s *Server) lambdaGet(w http.ResponseWriter, _ *call, name string) {
	out, ok := s.lambdaRead(w, name)
	if !ok {
		return
	}
	writeLambdaJSON(w, http.StatusOK, map[string]any{
		"Configuration": out,
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "https://awslambda-" + s.config().Region + "-tasks.s3." + s.config().Region + ".amazonaws.com/snapshots/" + name},
	})
}

func (s *Server) lambdaGetConfiguration(w http.ResponseWriter, _ *call, name string) {
	if out, ok := s.lambdaRead(w, name); ok {
		writeLambdaJSON(w, http.StatusOK, out)
	}
}

func (s *Server) lambdaDelete(w http.ResponseWriter, _ *call, name string) {
	st := s.lambda()
	st.mu.Lock()
	fn, ok := st.fns[name]
	delete(st.fns, name)
	st.mu.Unlock()
	if !ok {
		writeLambdaError(w, s.notFound(name))
		return
	}
	s.mu.Lock()
	delete(s.cfg.AccessKeys, fn.AccessKey)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) lambdaInvoke(w http.ResponseWriter, c *call, name string) {
	st := s.lambda()
	st.mu.Lock()
	fn, ok := st.fns[name]
	var state string
	var f Function
	invoke := st.invoke
	if ok {
		state = s.configurationOf(fn, st.pending).State
		fn.invokes++
		f = fn.Function
	}
	st.mu.Unlock()
	switch {
	case !ok:
		writeLambdaError(w, s.notFound(name))
		return
	case state != "Active":
		writeLambdaError(w, &apiError{http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. The function is currently in the following state: " + state})
		return
	case len(c.body) > maxResponse:
		writeLambdaError(w, &apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})
		return
	}
	payload := c.body
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeLambdaError(w, &apiError{http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: Unexpected character"})
		return
	}
	switch c.r.Header.Get("X-Amz-Invocation-Type") {
	case "", "RequestResponse":
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeLambdaError(w, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "Only RequestResponse and DryRun invocations are supported by this fake."})
		return
	}
	if invoke == nil {
		writeLambdaError(w, &apiError{http.StatusInternalServerError, "ServiceException", "fakeaws: no sandbox runs functions (Server.RunFunctions)"})
		return
	}
	res, err := invoke(c.r.Context(), f, payload)
	if err != nil {
		writeLambdaError(w, &apiError{http.StatusInternalServerError, "ServiceException", err.Error()})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if res.FunctionError != "" {
		h.Set("X-Amz-Function-Error", res.FunctionError)
	}
	if c.r.Header.Get("X-Amz-Log-Type") == "Tail" {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(res.Log))
	}
	w.WriteHeader(http.StatusOK)
	w.Write(res.Payload)
}

// lambdaValidation is the ValidationException of a member that breaks its constraint.
func lambdaValidation(member, value, rule string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationException",
		fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, rule)}
}

// writeLambdaJSON answers a REST-JSON document.
func writeLambdaJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeLambdaError(w, &apiError{http.StatusInternalServerError, "ServiceException", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeLambdaError answers e as Lambda does: X-Amzn-ErrorType and {"Type", "message"}.
func writeLambdaError(w http.ResponseWriter, e *apiError) {
	typ := "User"
	if e.status >= 500 {
		typ = "Service"
	}
	b, _ := json.Marshal(map[string]string{"Type": typ, "message": e.message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	setRequestID(w)
	w.WriteHeader(e.status)
	w.Write(b)
}

// lambdaList answers ListFunctions: every function, in one page (no Marker).
func (s *Server) lambdaList(w http.ResponseWriter, _ *call, _ string) {
	st := s.lambda()
	st.mu.Lock()
	out := struct{ Functions []functionConfiguration }{Functions: []functionConfiguration{}}
	for _, fn := range st.fns {
		out.Functions = append(out.Functions, s.configurationOf(fn, 0))
	}
	st.mu.Unlock()
	slices.SortFunc(out.Functions, func(a, b functionConfiguration) int { return strings.Compare(a.FunctionName, b.FunctionName) })
	writeLambdaJSON(w, http.StatusOK, out)
}

// lambdaListTags answers ListTags for a function's ARN.
func (s *Server) lambdaListTags(w http.ResponseWriter, _ *call, name string) {
	st := s.lambda()
	st.mu.Lock()
	fn, ok := st.fns[name]
	var tags map[string]string
	if ok {
		tags = maps.Clone(fn.Tags)
	}
	st.mu.Unlock()
	if !ok {
		writeLambdaError(w, s.notFound(name))
		return
	}
	if tags == nil {
		tags = map[string]string{}
	}
	writeLambdaJSON(w, http.StatusOK, struct{ Tags map[string]string }{tags})
}
