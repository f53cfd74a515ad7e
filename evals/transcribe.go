package evals

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relmcrm/relm/tools"
)

// Call is one recorded MCP tool call: what the client sent and what it got back.
type Call struct {
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Result is the JSON the call returned: structuredContent, or the error body of an
	// isError result. It is nil when the MCP layer refused the call.
	Result        json.RawMessage `json:"result,omitempty"`
	IsError       bool            `json:"is_error,omitempty"`
	ProtocolError string          `json:"protocol_error,omitempty"` // the JSON-RPC error message
}

// Catalog is what transcription needs to know about the tools: which only read, the
// arguments each takes (to rebuild records that existed before a session as setup calls),
// the toolset of each and the core tools (to tell which a tool selection hides).
type Catalog struct {
	ReadOnly map[string]bool
	Inputs   map[string][]string
	Toolsets map[string]string
	Core     []string
}

// hides reports whether a session connected with toolsets and readOnly (a transcript's
// selection, nil for every toolset) cannot call tool.
func (c Catalog) hides(toolsets []string, readOnly bool, tool string) bool {
	chosen := len(toolsets) == 0 || slices.Contains(toolsets, c.Toolsets[tool]) ||
		(slices.Contains(toolsets, tools.CoreToolset) && slices.Contains(c.Core, tool))
	return !chosen || (readOnly && !c.ReadOnly[tool])
}

// Transcribe turns the calls of one session into a transcript that replays against a
// fresh workspace: ids, cursors and timestamps the server made become captures, {{name}}
// references and matchers; values that differ per run are left out; API keys are never
// written; records the session used but did not create are recreated by setup calls.
func Transcribe(name, description, mode string, calls []Call, cat Catalog) *Transcript {
	tr := newTranscriber(calls, cat)
	t := &Transcript{Name: name, Description: description, Mode: mode}
	t.Setup = tr.seed()
	for i := range tr.calls {
		t.Steps = append(t.Steps, tr.step(i))
	}
	return t
}

// decoded is a call with its JSON parsed.
type decoded struct {
	Call
	args   map[string]any
	result any
}

// token is a value the server made that differs per run: an id or a list cursor.
type token struct {
	value, kind string
	defCall     int    // the call whose result first holds the whole value; -1 if none
	defPath     string // where in that result, as a capture path
	firstArg    int    // the first call whose arguments hold it; -1 if none
	lastUse     int    // the last call that holds it anywhere
	preexisting bool   // a record that existed before the session
	capture     string // the capture name, when a later call uses it
	seeded      bool   // captured by a setup call
}

type transcriber struct {
	calls    []decoded
	cat      Catalog
	tokens   map[string]*token
	order    []*token         // in order of first sighting
	defined  map[int][]*token // by the call whose result first holds them, in order
	argFirst map[string]int   // the first call whose arguments hold a string
	records  recordIndex
	counts   map[string]int
}

var (
	idInText = regexp.MustCompile(`\b[a-z]+_[a-z2-7]{26}\b`)
	secretRe = regexp.MustCompile(`sk_(live|test)_[0-9A-Za-z]{32}`)
)

func newTranscriber(calls []Call, cat Catalog) *transcriber {
	tr := &transcriber{cat: cat, tokens: map[string]*token{}, counts: map[string]int{}, argFirst: map[string]int{}}
	for _, c := range calls {
		d := decoded{Call: c}
		if a, err := decodeJSON(orNull(c.Arguments)); err == nil {
			d.args, _ = a.(map[string]any)
		}
		if c.Result != nil {
			d.result, _ = decodeJSON(c.Result)
		}
		tr.calls = append(tr.calls, d)
	}
	for i, c := range tr.calls {
		walkStrings(c.args, func(s string) {
			if _, seen := tr.argFirst[s]; !seen {
				tr.argFirst[s] = i
			}
			for _, id := range idInText.FindAllString(s, -1) {
				tr.sight(id, i, true, "")
			}
			if t, ok := tr.tokens[s]; ok && t.kind == "cursor" {
				tr.sight(s, i, true, "")
			}
		})
		tr.scanResult(i, c.result, "")
	}
	tr.records = indexRecords(tr.calls)
	tr.classify()
	return tr
}

func orNull(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return []byte("null")
	}
	return raw
}

// sight records that value appears in call i: in its arguments, or whole at path in its
// result (path "" for a mention inside a longer string).
func (tr *transcriber) sight(value string, i int, inArgs bool, path string) {
	t, ok := tr.tokens[value]
	if !ok {
		t = &token{value: value, kind: kindOfToken(value), defCall: -1, firstArg: -1}
		tr.tokens[value] = t
		tr.order = append(tr.order, t)
	}
	t.lastUse = i
	if inArgs && t.firstArg < 0 {
		t.firstArg = i
	}
	if !inArgs && path != "" && t.defCall < 0 {
		t.defCall, t.defPath = i, path
	}
}

// scanResult finds the tokens of a result.
func (tr *transcriber) scanResult(i int, v any, path string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			at := path + "/" + escape(k)
			if s, ok := v[k].(string); ok && k == "next_cursor" {
				if _, known := tr.tokens[s]; !known {
					tr.tokens[s] = &token{value: s, kind: "cursor", defCall: i, defPath: at, firstArg: -1, lastUse: i}
					tr.order = append(tr.order, tr.tokens[s])
				}
				continue
			}
			tr.scanResult(i, v[k], at)
		}
	case []any:
		for j, e := range v {
			tr.scanResult(i, e, path+"/"+elementSegment(v, j))
		}
	case string:
		if idPattern.MatchString(v) {
			tr.sight(v, i, false, path)
			return
		}
		for _, id := range idInText.FindAllString(v, -1) {
			tr.sight(id, i, false, "")
		}
	}
}

// elementSegment is the capture path segment of list element j: its index, unless the
// list's order may differ on replay (see unordered), where it picks the element by a
// field whose value is unique in the list.
func elementSegment(list []any, j int) string {
	if !unordered(list) {
		return strconv.Itoa(j)
	}
	el, _ := list[j].(map[string]any)
	for _, field := range []string{"title", "email", "name", "subject"} {
		v, ok := el[field].(string)
		if ok && v != "" && !strings.ContainsAny(v, "[]=/~{}") && findElement(list, field, v) == j && unique(list, field, v) {
			return "[" + field + "=" + v + "]"
		}
	}
	return strconv.Itoa(j)
}

func unique(list []any, field, v string) bool {
	n := 0
	for _, e := range list {
		if obj, ok := e.(map[string]any); ok && obj[field] == v {
			n++
		}
	}
	return n == 1
}

// unordered reports whether a list may come back in another order on replay: results
// ranked by score, whose ties fall in any order, and lists where two elements share a
// created_at (lists are ordered by created_at, then by id, which differs per run).
func unordered(list []any) bool {
	if len(list) < 2 {
		return false
	}
	seen := map[any]bool{}
	scored := true
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := obj["score"]; !ok {
			scored = false
		}
		if at, ok := obj["created_at"].(string); ok {
			if seen[at] {
				return true
			}
			seen[at] = true
		}
	}
	return scored
}

// seedable are the records a setup call can recreate, with the tool that creates each, in
// an order where references point backwards.
var seedable = []struct{ kind, tool string }{
	{"company", "create_company"},
	{"contact", "create_contact"},
	{"deal", "create_deal"},
	{"activity", "log_activity"},
}

func seedTool(kind string) string {
	for _, s := range seedable {
		if s.kind == kind {
			return s.tool
		}
	}
	return ""
}

// classify decides which tokens existed before the session and which to capture.
func (tr *transcriber) classify() {
	for _, t := range tr.order {
		if seedTool(t.kind) != "" {
			// A record is new when a write returned it first; one that a read, an error, an
			// argument or an import's update showed first was there before the session.
			t.preexisting = t.defCall < 0 || (t.firstArg >= 0 && t.firstArg <= t.defCall) ||
				tr.cat.ReadOnly[tr.calls[t.defCall].Tool] || tr.calls[t.defCall].IsError || tr.updatedInBatch(t)
		}
		if t.defCall >= 0 && !t.preexisting && t.lastUse > t.defCall {
			t.capture = tr.name(t.kind)
		}
	}
	tr.defined = map[int][]*token{}
	for _, t := range tr.order {
		if t.defCall >= 0 {
			tr.defined[t.defCall] = append(tr.defined[t.defCall], t)
		}
	}
}

// updatedInBatch reports whether t first appears as a contact an import updated (rather
// than created): it existed before.
func (tr *transcriber) updatedInBatch(t *token) bool {
	p, ok := strings.CutSuffix(t.defPath, "/contact/id")
	if !ok {
		return false
	}
	status, err := resolvePath(tr.calls[t.defCall].result, p+"/status")
	return err == nil && status == "updated"
}

func (tr *transcriber) name(kind string) string {
	tr.counts[kind]++
	if tr.counts[kind] == 1 {
		return kind + "_id"
	}
	return kind + "_id_" + strconv.Itoa(tr.counts[kind])
}

// kindOfToken names what an id identifies, from its prefix.
func kindOfToken(id string) string {
	prefix := id[:strings.Index(id, "_")]
	switch prefix {
	case "con":
		return "contact"
	case "cmp":
		return "company"
	case "act":
		return "activity"
	case "evt":
		return "event"
	case "key":
		return "api_key"
	case "rlog":
		return "request_log"
	case "asc":
		return "association"
	case "fld":
		return "custom_field"
	case "req":
		return "request"
	}
	return prefix
}

// known reports whether t is captured before call i, so that call can refer to it.
func (t *token) known(i int) bool {
	return t.capture != "" && (t.seeded || t.defCall < i)
}

// step writes call i as a transcript step.
func (tr *transcriber) step(i int) Step {
	c := tr.calls[i]
	s := Step{Tool: c.Tool}
	if len(c.args) > 0 {
		s.Arguments, _ = tr.argument(i, c.args).(map[string]any)
	}
	switch {
	case c.ProtocolError != "":
		msg := c.ProtocolError
		s.Expect = &Expect{ProtocolError: &msg}
	case c.IsError:
		body, _ := c.result.(map[string]any)
		e, _ := body["error"].(map[string]any)
		pat := map[string]any{}
		for k, v := range e {
			if k != "message" && k != "request_id" { // messages are prose; request ids differ per run
				pat[k] = tr.expected(i, c.Tool, v, k)
			}
		}
		s.Expect = &Expect{Error: pat}
	default:
		s.Expect = &Expect{Result: tr.result(i, c.Tool, c.result)}
	}
	for _, t := range tr.defined[i] {
		if t.capture != "" && !t.seeded {
			if s.Capture == nil {
				s.Capture = map[string]string{}
			}
			s.Capture[t.capture] = t.defPath
		}
	}
	return s
}

// volatile are result fields left out of recorded expectations, per tool ("" for every
// tool): they differ from run to run, or depend on the workspace's history and settings.
var volatile = map[string][]string{
	"":                  {"request_id", "latency_ms", "score", "last4"},
	"get_usage":         {"used", "limit", "rate_limit"},
	"list_api_keys":     {"data", "has_more", "next_cursor"},
	"list_request_logs": {"data", "has_more", "next_cursor"},
}

// result is the expectation for a successful result of tool.
func (tr *transcriber) result(i int, tool string, v any) any {
	obj, ok := v.(map[string]any)
	if !ok {
		return tr.expected(i, tool, v, "")
	}
	out := map[string]any{}
	for k, e := range obj {
		if !slices.Contains(volatile[tool], k) && !slices.Contains(volatile[""], k) {
			out[k] = tr.expected(i, tool, e, k)
		}
	}
	return out
}

// expected is the pattern a recorded value becomes in call i's expectation; key is the
// field holding it.
func (tr *transcriber) expected(i int, tool string, v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		if hasSpecialKey(v) {
			return map[string]any{"$literal": v}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			if !slices.Contains(volatile[""], k) {
				out[k] = tr.expected(i, tool, e, k)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for j, e := range v {
			out[j] = tr.expected(i, tool, e, "")
		}
		if unordered(v) {
			return map[string]any{"$match": "array", "len": len(v), "contains": out}
		}
		return out
	case string:
		return tr.expectedString(i, v, key)
	}
	return v
}

func (tr *transcriber) expectedString(i int, s, key string) any {
	if t, ok := tr.tokens[s]; ok {
		switch {
		case t.known(i):
			return "{{" + t.capture + "}}"
		case t.kind == "cursor":
			return map[string]any{"$match": "string"}
		case t.firstArg >= 0 && t.firstArg <= i:
			return s // an id the agent knew from elsewhere, sent as is
		default:
			return map[string]any{"$match": "id", "prefix": s[:strings.Index(s, "_")+1]}
		}
	}
	if secretRe.MatchString(s) {
		if secretRe.FindString(s) == s {
			return map[string]any{"$match": "string", "pattern": "^sk_(live|test)_[0-9A-Za-z]{32}$"}
		}
		return map[string]any{"$match": "string"}
	}
	if first, sent := tr.argFirst[s]; isTimestamp(s) && !(sent && first <= i) {
		return map[string]any{"$match": "timestamp"}
	}
	return tr.textWithRefs(i, s)
}

// argument is a recorded argument value with captured values replaced by references.
func (tr *transcriber) argument(i int, v any) any {
	switch v := v.(type) {
	case map[string]any:
		if hasSpecialKey(v) {
			return map[string]any{"$literal": v}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = tr.argument(i, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for j, e := range v {
			out[j] = tr.argument(i, e)
		}
		return out
	case string:
		if secretRe.MatchString(v) {
			return secretRe.ReplaceAllString(v, "[redacted API key]")
		}
		if t, ok := tr.tokens[v]; ok && t.known(i) {
			return "{{" + t.capture + "}}"
		}
		return tr.textWithRefs(i, v)
	}
	return v
}

// textWithRefs writes the known ids inside s as {{name}} references; a string that
// already holds "{{" is kept literal.
func (tr *transcriber) textWithRefs(i int, s string) any {
	if strings.Contains(s, "{{") {
		return map[string]any{"$literal": s}
	}
	return idInText.ReplaceAllStringFunc(s, func(id string) string {
		if t, ok := tr.tokens[id]; ok && t.known(i) {
			return "{{" + t.capture + "}}"
		}
		return id
	})
}

func hasSpecialKey(m map[string]any) bool {
	for _, k := range []string{"$ref", "$literal", "$match"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// isTimestamp reports whether s is an RFC 3339 date-time (not a bare date).
func isTimestamp(s string) bool {
	if len(s) < 20 || s[10] != 'T' {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// walkStrings calls f for every string in v.
func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walkStrings(v[k], f)
		}
	case []any:
		for _, e := range v {
			walkStrings(e, f)
		}
	case string:
		f(v)
	}
}
