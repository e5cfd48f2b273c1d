package fakeaws

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// groupName reads logGroupName or logGroupIdentifier (a name or an ARN) of a request.
func groupName(name, identifier string) string {
	if name != "" || identifier == "" {
		return name
	}
	if i := strings.Index(identifier, ":log-group:"); i >= 0 {
		return strings.TrimSuffix(identifier[i+len(":log-group:"):], ":*")
	}
	return identifier
}

func (s *Server) logsDescribeLogStreams(c *call) (any, *apiError) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogGroupIdentifier  string `json:"logGroupIdentifier"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		OrderBy             string `json:"orderBy"`
		Descending          bool   `json:"descending"`
		NextToken           string `json:"nextToken"`
		Limit               int    `json:"limit"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	group := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if in.OrderBy == "LastEventTime" && in.LogStreamNamePrefix != "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix."}
	}
	if aerr := c.authorize(s, "logs:DescribeLogStreams", s.groupARN(group)+":log-stream:"); aerr != nil {
		return nil, aerr
	}
	type streamOut struct {
		LogStreamName       string `json:"logStreamName"`
		CreationTime        int64  `json:"creationTime"`
		FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
		LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
		LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
		Arn                 string `json:"arn"`
		StoredBytes         int64  `json:"storedBytes"`
	}
	arn := s.groupARN(group)
	s.mu.Lock()
	g := s.groups[group]
	all := []streamOut{}
	if g != nil {
		for _, name := range sortedKeys(g.streams) {
			if !strings.HasPrefix(name, in.LogStreamNamePrefix) {
				continue
			}
			st := g.streams[name]
			o := streamOut{LogStreamName: name, CreationTime: st.created, Arn: arn + ":log-stream:" + name}
			if n := len(st.events); n > 0 {
				o.FirstEventTimestamp = st.events[0].Timestamp
				o.LastEventTimestamp = st.events[n-1].Timestamp
				o.LastIngestionTime = st.events[n-1].IngestionTime
			}
			all = append(all, o)
		}
	}
	s.mu.Unlock()
	if g == nil {
		return nil, errGroupNotFound()
	}
	if in.OrderBy == "LastEventTime" {
		sort.SliceStable(all, func(i, j int) bool { return all[i].LastEventTimestamp < all[j].LastEventTimestamp })
	}
	if in.Descending {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	from, aerr := pageStart(in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	page, next := paginate(all, from, limitOr(in.Limit, 50))
	out := map[string]any{"logStreams": page}
	if next > 0 {
		out["nextToken"] = pageToken(next)
	}
	return out, nil
}

func (s *Server) logsGetLogEvents(c *call) (any, *apiError) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartTime          *int64 `json:"startTime"`
		EndTime            *int64 `json:"endTime"`
		StartFromHead      bool   `json:"startFromHead"`
		NextToken          string `json:"nextToken"`
		Limit              int    `json:"limit"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	group := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if aerr := c.authorize(s, "logs:GetLogEvents", s.streamARN(group, in.LogStreamName)); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	var events []Event
	g := s.groups[group]
	var st *logStream
	if g != nil {
		st = g.streams[in.LogStreamName]
	}
	if st != nil {
		events = inRange(st.events, in.StartTime, in.EndTime)
	}
	s.mu.Unlock()
	if g == nil {
		return nil, errGroupNotFound()
	}
	if st == nil {
		return nil, errStreamNotFound()
	}

	// Tokens are positions: f/<n> reads forward from event n, b/<n> backward from it. At either
	// end the service hands back the token it was given, which is how readers know to stop.
	limit := limitOr(in.Limit, maxBatchEvents)
	from, to := 0, len(events)
	switch dir, pos, ok := parseLogToken(in.NextToken); {
	case in.NextToken != "" && !ok:
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "The specified nextToken is invalid."}
	case dir == 'f':
		from, to = min(pos, len(events)), min(pos+limit, len(events))
	case dir == 'b':
		from, to = max(0, min(pos, len(events))-limit), min(pos, len(events))
	case in.StartFromHead:
		to = min(limit, len(events))
	default:
		from = max(0, len(events)-limit)
	}
	type eventOut struct {
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
	}
	out := []eventOut{}
	for _, e := range events[from:to] {
		out = append(out, eventOut{e.Timestamp, e.Message, e.IngestionTime})
	}
	return map[string]any{
		"events":            out,
		"nextForwardToken":  fmt.Sprintf("f/%056d/s", to),
		"nextBackwardToken": fmt.Sprintf("b/%056d/s", from),
	}, nil
}

// parseLogToken reads a GetLogEvents token, f/<n>/s or b/<n>/s.
func parseLogToken(tok string) (dir byte, pos int, ok bool) {
	parts := strings.Split(tok, "/")
	if len(parts) < 2 || (parts[0] != "f" && parts[0] != "b") {
		return 0, 0, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 {
		return 0, 0, false
	}
	return parts[0][0], n, true
}

func (s *Server) logsFilterLogEvents(c *call) (any, *apiError) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		NextToken           string   `json:"nextToken"`
		Limit               int      `json:"limit"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException",
			"You cannot specify both logStreamNames and logStreamNamePrefix."}
	}
	match, aerr := compileFilter(in.FilterPattern)
	if aerr != nil {
		return nil, aerr
	}
	group := groupName(in.LogGroupName, in.LogGroupIdentifier)
	if aerr := c.authorize(s, "logs:FilterLogEvents", s.groupARN(group)+":log-stream:"); aerr != nil {
		return nil, aerr
	}
	type eventOut struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
		EventID       string `json:"eventId"`
	}
	all := []eventOut{}
	s.mu.Lock()
	g := s.groups[group]
	if g != nil {
		for _, name := range sortedKeys(g.streams) {
			if !strings.HasPrefix(name, in.LogStreamNamePrefix) || (len(in.LogStreamNames) > 0 && !contains(in.LogStreamNames, name)) {
				continue
			}
			for i, e := range inRange(g.streams[name].events, in.StartTime, in.EndTime) {
				if match(e.Message) {
					all = append(all, eventOut{name, e.Timestamp, e.Message, e.IngestionTime, fmt.Sprintf("%056d", i)})
				}
			}
		}
	}
	s.mu.Unlock()
	if g == nil {
		return nil, errGroupNotFound()
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Timestamp < all[j].Timestamp })
	from, aerr := pageStart(in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	page, next := paginate(all, from, limitOr(in.Limit, maxBatchEvents))
	out := map[string]any{"events": page, "searchedLogStreams": []any{}}
	if next > 0 {
		out["nextToken"] = pageToken(next)
	}
	return out, nil
}

// inRange returns the events with startTime <= timestamp < endTime (either bound optional).
func inRange(events []Event, start, end *int64) []Event {
	var out []Event
	for _, e := range events {
		if (start == nil || e.Timestamp >= *start) && (end == nil || e.Timestamp < *end) {
			out = append(out, e)
		}
	}
	return out
}

// limitOr returns limit, or def when the request left it out.
func limitOr(limit, def int) int {
	if limit <= 0 {
		return def
	}
	return limit
}

// paginate returns items[from:from+limit] and the start of the next page, 0 when none is left.
func paginate[T any](items []T, from, limit int) ([]T, int) {
	from = min(from, len(items))
	to := min(from+limit, len(items))
	if to < len(items) {
		return items[from:to], to
	}
	return items[from:to], 0
}

// pageToken and pageStart encode a position as an opaque-looking nextToken and read it back.
func pageToken(pos int) string {
	return fmt.Sprintf("%064d", pos)
}

func pageStart(tok string) (int, *apiError) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 {
		return 0, &apiError{http.StatusBadRequest, "InvalidParameterException", "The specified nextToken is invalid."}
	}
	return n, nil
}
