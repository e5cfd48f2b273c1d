package fakeaws

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"
)

// CloudWatch Logs limits, as the service enforces them.
const (
	maxBatchBytes  = 1048576             // a PutLogEvents batch: message bytes + eventOverhead per event
	maxBatchEvents = 10000               // events per PutLogEvents batch
	maxEventBytes  = 262144              // one event, message bytes + eventOverhead
	eventOverhead  = 26                  // bytes counted per event on top of its message
	maxBatchSpan   = 24 * time.Hour      // newest minus oldest event of a batch
	maxEventAge    = 14 * 24 * time.Hour // older events are rejected, not stored
	maxEventAhead  = 2 * time.Hour       // newer events are rejected, not stored
)

// logsOps are the CloudWatch Logs operations the fake answers.
var logsOps = map[string]jsonOp{
	"CreateLogGroup":     (*Server).logsCreateLogGroup,
	"CreateLogStream":    (*Server).logsCreateLogStream,
	"PutLogEvents":       (*Server).logsPutLogEvents,
	"DescribeLogStreams": (*Server).logsDescribeLogStreams,
	"GetLogEvents":       (*Server).logsGetLogEvents,
	"FilterLogEvents":    (*Server).logsFilterLogEvents,
}

// logGroup is one log group and its streams.
type logGroup struct {
	created int64
	streams map[string]*logStream
}

// logStream is one log stream and the events it accepted, in order.
type logStream struct {
	created int64
	events  []Event
	seq     int64
}

var (
	groupNamePattern  = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)
	streamNamePattern = regexp.MustCompile(`^[^:*]{1,512}$`)
)

// Events returns the events a stream accepted, in order; nil when it does not exist.
func (s *Server) Events(group, stream string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil || g.streams[stream] == nil {
		return nil
	}
	return append([]Event(nil), g.streams[stream].events...)
}

// Streams returns the names of a group's streams, sorted; nil when the group does not exist.
func (s *Server) Streams(group string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil {
		return nil
	}
	return sortedKeys(g.streams)
}

// Groups returns the names of the log groups, sorted.
func (s *Server) Groups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.groups)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// groupARN and streamARN are the resources IAM names in Logs denials.
func (s *Server) groupARN(group string) string {
	cfg := s.config()
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", cfg.Region, cfg.Account, group)
}

func (s *Server) streamARN(group, stream string) string {
	return s.groupARN(group) + ":log-stream:" + stream
}

// validation answers the Coral validation message for one member constraint.
func validation(value, member, constraint string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException",
		fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)}
}

func errGroupNotFound() *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist."}
}

func errStreamNotFound() *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist."}
}

func checkGroupName(name string) *apiError {
	if !groupNamePattern.MatchString(name) {
		return validation(name, "logGroupName", `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
	}
	return nil
}

func checkStreamName(name string) *apiError {
	if !streamNamePattern.MatchString(name) {
		return validation(name, "logStreamName", "Member must satisfy regular expression pattern: [^:*]*")
	}
	return nil
}

func (s *Server) logsCreateLogGroup(c *call) (any, *apiError) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkGroupName(in.LogGroupName); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "logs:CreateLogGroup", s.groupARN(in.LogGroupName)); aerr != nil {
		return nil, aerr
	}
	now := s.now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[in.LogGroupName] != nil {
		return nil, &apiError{http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log group already exists"}
	}
	s.groups[in.LogGroupName] = &logGroup{created: now, streams: map[string]*logStream{}}
	return struct{}{}, nil
}

func (s *Server) logsCreateLogStream(c *call) (any, *apiError) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkGroupName(in.LogGroupName); aerr != nil {
		return nil, aerr
	}
	if aerr := checkStreamName(in.LogStreamName); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "logs:CreateLogStream", s.streamARN(in.LogGroupName, in.LogStreamName)); aerr != nil {
		return nil, aerr
	}
	now := s.now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[in.LogGroupName]
	if g == nil {
		return nil, errGroupNotFound()
	}
	if g.streams[in.LogStreamName] != nil {
		return nil, &apiError{http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log stream already exists"}
	}
	g.streams[in.LogStreamName] = &logStream{created: now}
	return struct{}{}, nil
}

// logEvent is an InputLogEvent.
type logEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// logsPutLogEvents stores a batch after the checks CloudWatch Logs makes: the batch's shape,
// permission, the group and stream, then size, order and span. Events too old or too far in
// the future are not stored and are reported in rejectedLogEventsInfo, as the service does.
func (s *Server) logsPutLogEvents(c *call) (any, *apiError) {
	var in struct {
		LogGroupName  string     `json:"logGroupName"`
		LogStreamName string     `json:"logStreamName"`
		LogEvents     []logEvent `json:"logEvents"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkBatchShape(in.LogEvents); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "logs:PutLogEvents", s.streamARN(in.LogGroupName, in.LogStreamName)); aerr != nil {
		return nil, aerr
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[in.LogGroupName]
	if g == nil {
		return nil, errGroupNotFound()
	}
	st := g.streams[in.LogStreamName]
	if st == nil {
		return nil, errStreamNotFound()
	}
	if aerr := checkBatchContent(in.LogEvents); aerr != nil {
		return nil, aerr
	}

	type rejected struct {
		TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
		TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	}
	var rej rejected
	oldest, newest := now.Add(-maxEventAge).UnixMilli(), now.Add(maxEventAhead).UnixMilli()
	for i, e := range in.LogEvents {
		switch {
		case e.Timestamp < oldest:
			end := i + 1
			rej.TooOldLogEventEndIndex = &end
		case e.Timestamp > newest:
			if rej.TooNewLogEventStartIndex == nil {
				start := i
				rej.TooNewLogEventStartIndex = &start
			}
		default:
			st.events = append(st.events, Event{Timestamp: e.Timestamp, IngestionTime: now.UnixMilli(), Message: e.Message})
		}
	}
	st.seq++
	out := map[string]any{"nextSequenceToken": fmt.Sprintf("4963%052d", st.seq)}
	if rej != (rejected{}) {
		out["rejectedLogEventsInfo"] = rej
	}
	return out, nil
}

// checkBatchShape applies the model's constraints on a batch: 1 to 10,000 events, each with a
// message.
func checkBatchShape(events []logEvent) *apiError {
	switch {
	case len(events) == 0:
		return validation("[]", "logEvents", "Member must have length greater than or equal to 1")
	case len(events) > maxBatchEvents:
		return validation("[...]", "logEvents", fmt.Sprintf("Member must have length less than or equal to %d", maxBatchEvents))
	}
	for i, e := range events {
		if e.Message == "" {
			return validation("", fmt.Sprintf("logEvents.%d.member.message", i+1), "Member must have length greater than or equal to 1")
		}
	}
	return nil
}

// checkBatchContent applies the service's limits on a batch: event and batch size,
// chronological order, and a span of at most 24 hours.
func checkBatchContent(events []logEvent) *apiError {
	total := 0
	for i, e := range events {
		size := len(e.Message) + eventOverhead
		if size > maxEventBytes {
			return &apiError{http.StatusBadRequest, "InvalidParameterException",
				fmt.Sprintf("Log event too large: %d bytes exceeds limit of %d", size, maxEventBytes)}
		}
		total += size
		if i > 0 && e.Timestamp < events[i-1].Timestamp {
			return &apiError{http.StatusBadRequest, "InvalidParameterException",
				"Log events in a single PutLogEvents request must be in chronological order."}
		}
	}
	if total > maxBatchBytes {
		return &apiError{http.StatusBadRequest, "InvalidParameterException",
			fmt.Sprintf("Upload too large: %d bytes exceeds limit of %d", total, maxBatchBytes)}
	}
	if time.Duration(events[len(events)-1].Timestamp-events[0].Timestamp)*time.Millisecond > maxBatchSpan {
		return &apiError{http.StatusBadRequest, "InvalidParameterException",
			"Log events in a single PutLogEvents request cannot span more than 24 hours."}
	}
	return nil
}
