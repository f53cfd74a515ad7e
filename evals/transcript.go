package evals

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/relmcrm/relm/tools"
)

// Transcript is one agent session: ordered MCP tool calls with what each must return, and
// optional assertions on the workspace afterwards. evals/README.md documents the format.
type Transcript struct {
	Name        string `json:"name" jsonschema:"pattern=^[a-z0-9][a-z0-9_.-]{0\\,99}$" jsonschema_description:"Unique name of the transcript: lower case letters, digits, '-', '_' and '.'."`
	Description string `json:"description" jsonschema:"minLength=1" jsonschema_description:"What the agent is doing and what the transcript shows."`
	// Mode is the mode of the API key the transcript runs with: "test" (the default) or "live".
	Mode string `json:"mode,omitempty" jsonschema:"enum=test,enum=live" jsonschema_description:"Mode of the API key the transcript runs with (default test)."`
	// Plan is the plan of the fresh workspace the transcript runs in ("free", the default,
	// or "team"). Runs against a running server (--url) use the key's workspace as it is.
	Plan string `json:"plan,omitempty" jsonschema:"pattern=^[a-z]+$" jsonschema_description:"Plan of the fresh workspace the transcript runs in: free (the default) or team. Not applied with --url, where the key's workspace is used as it is."`
	// Toolsets and ReadOnly are the tool selection the transcript connects with
	// (/mcp?toolsets=contacts,deals&read_only=true): the tools its session sees. Unset, it
	// sees every tool.
	Toolsets   []string `json:"toolsets,omitempty" jsonschema:"minItems=1,uniqueItems=true,pattern=^[a-z][a-z_]*$" jsonschema_description:"The toolsets the transcript's session sees, as a client connecting to /mcp?toolsets=contacts,deals (core is the default set; unset: every toolset). The server rejects an unknown toolset when the replay connects."`
	ReadOnly   bool     `json:"read_only,omitempty" jsonschema_description:"When true, the session sees only the tools that change nothing, as a client connecting to /mcp?read_only=true."`
	Setup      []Step   `json:"setup,omitempty" jsonschema_description:"Calls that prepare the workspace before the steps."`
	Steps      []Step   `json:"steps" jsonschema:"minItems=1" jsonschema_description:"The agent's tool calls, in order."`
	FinalState []Step   `json:"final_state,omitempty" jsonschema_description:"Read-only tool calls run after the steps: assertions on the workspace's data, to grade by outcome."`

	// Path is the file the transcript was loaded from ("" when built in memory).
	Path string `json:"-"`
}

// Step is one MCP request: a tool call (Tool), or a resource read, a prompt or an argument
// completion.
type Step struct {
	Note      string            `json:"note,omitempty" jsonschema_description:"Why the agent makes this call; documentation only."`
	Tool      string            `json:"tool,omitempty" jsonschema:"minLength=1" jsonschema_description:"MCP tool to call (tools/call)."`
	Resource  string            `json:"resource,omitempty" jsonschema:"minLength=1" jsonschema_description:"URI of a resource to read instead (resources/read), such as relm://contacts/{{contact_id}}; the result is its JSON content."`
	Prompt    string            `json:"prompt,omitempty" jsonschema:"minLength=1" jsonschema_description:"Name of a prompt to get instead (prompts/get), with arguments as its arguments; the result is {description, messages: [{role, text}]}."`
	Complete  *Completion       `json:"complete,omitempty" jsonschema_description:"An argument to complete instead (completion/complete); the result is {values, has_more}."`
	Arguments map[string]any    `json:"arguments,omitempty" jsonschema_description:"Tool (or prompt) arguments. Strings may hold {{name}} references to captured values; {\"$ref\": name} stands for a captured value of any type; {\"$literal\": value} is sent as is."`
	Expect    *Expect           `json:"expect,omitempty"`
	Capture   map[string]string `json:"capture,omitempty" jsonschema_description:"Values to remember for later steps: each name maps to a path into the result (JSON Pointer, plus [field=value] segments)."`
	// WithinMS, for a read of background work's outcome (an automation's run), repeats the
	// call until its expectation holds, for at most this many milliseconds.
	WithinMS int `json:"within_ms,omitempty" jsonschema:"minimum=1,maximum=60000" jsonschema_description:"For a read of background work's outcome (an automation's run): repeat the call until its expectation holds, for at most this many milliseconds."`
}

// Completion is a completion/complete request: the argument of a prompt or of a resource
// template, and the text typed so far.
type Completion struct {
	Prompt   string            `json:"prompt,omitempty" jsonschema:"minLength=1" jsonschema_description:"The prompt whose argument to complete."`
	Resource string            `json:"resource,omitempty" jsonschema:"minLength=1" jsonschema_description:"Or the resource template whose argument to complete, such as relm://contacts/{id}."`
	Argument string            `json:"argument" jsonschema:"minLength=1" jsonschema_description:"The argument's name."`
	Value    string            `json:"value" jsonschema_description:"What is typed so far; may hold {{name}} references."`
	Context  map[string]string `json:"context,omitempty" jsonschema_description:"The request's other arguments already chosen, such as {\"pipeline\": \"renewals\"} when completing a stage."`
}

// Label names the step's request in messages: its tool, or what else it asks for.
func (s Step) Label() string {
	switch {
	case s.Resource != "":
		return "resource " + s.Resource
	case s.Prompt != "":
		return "prompt " + s.Prompt
	case s.Complete != nil:
		return "complete " + s.Complete.Prompt + s.Complete.Resource + " " + s.Complete.Argument
	}
	return s.Tool
}

// Expect is what a call must return. With no field set, any successful result passes.
type Expect struct {
	// Result is a pattern that structuredContent of a successful result must match.
	Result any `json:"result,omitempty" jsonschema_description:"Partial match on structuredContent of a successful result."`
	// Error, when set, requires an isError result: an error code (string), or a pattern
	// for the "error" object of the error body.
	Error any `json:"error,omitempty" jsonschema_description:"The call must return isError; a string is the expected error code, an object a partial match on the error body's \"error\" object."`
	// ProtocolError, when set, requires a JSON-RPC error whose message contains it.
	ProtocolError *string `json:"protocol_error,omitempty" jsonschema_description:"The call must fail at the MCP layer (a JSON-RPC error, e.g. an unknown tool) with a message containing this text (empty: any message)."`
}

// KeyMode is the mode of the key the transcript needs.
func (t *Transcript) KeyMode() string {
	if t.Mode == "" {
		return "test"
	}
	return t.Mode
}

// Endpoint is the URL to replay t at: base, a server's /mcp endpoint, with t's tool
// selection as its query.
func (t *Transcript) Endpoint(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base // an unparsable URL fails when dialled, with a clearer error
	}
	q := u.Query()
	q.Set("toolsets", cmp.Or(strings.Join(t.Toolsets, ","), tools.AllToolsets))
	if t.ReadOnly {
		q.Set("read_only", "true")
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "%2C", ",") // toolsets=contacts,deals reads better
	return u.String()
}

// texts are the step's strings other than its arguments that may hold {{name}} references.
func (s Step) texts() []string {
	out := []string{s.Resource}
	if c := s.Complete; c != nil {
		out = append(out, c.Value)
		for _, v := range c.Context {
			out = append(out, v)
		}
	}
	return out
}

// Tools lists the distinct tools the transcript calls, in setup, steps and final_state.
func (t *Transcript) Tools() []string {
	var names []string
	for _, phase := range [][]Step{t.Setup, t.Steps, t.FinalState} {
		for _, s := range phase {
			if s.Tool != "" && !slices.Contains(names, s.Tool) {
				names = append(names, s.Tool)
			}
		}
	}
	return names
}

//go:embed transcript.schema.json
var schemaJSON []byte

// Schema returns the JSON Schema of transcripts (JSON Schema 2020-12, $id SchemaID),
// generated from the Go types (schema.go).
func Schema() []byte { return slices.Clone(schemaJSON) }

var (
	schema  = mustCompileSchema()
	printer = message.NewPrinter(language.English)
)

// mustCompileSchema compiles the embedded schema, which TestSchemaFile keeps equal to what
// the Go types generate.
func mustCompileSchema() *jsonschema.Schema {
	s, err := compileSchema(schemaJSON)
	if err != nil {
		panic("evals: transcript.schema.json: " + err.Error())
	}
	return s
}

func compileSchema(data []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{}) // nothing is loaded from files or the network
	const url = "relm:///eval-transcript.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// Parse reads one transcript, validating it against the schema and checking what a schema
// cannot (regular expressions, capture paths). name is used in error messages.
func Parse(name string, data []byte) (*Transcript, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %w", name, err)
	}
	if err := schema.Validate(doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, schemaError(err))
	}
	var t Transcript
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t.Path = name
	return &t, nil
}

// check compiles every argument, pattern and path once, so that mistakes surface when
// loading, including references to names no earlier step captures.
func (t *Transcript) check() error {
	known := vars{}
	for _, ph := range t.phases() {
		for i, s := range ph.steps {
			at := fmt.Sprintf("%s %d (%s)", ph.label(), i+1, s.Label())
			if _, err := known.arguments(s.Arguments); err != nil {
				return fmt.Errorf("%s: arguments: %w", at, err)
			}
			for _, text := range s.texts() {
				if _, err := known.interpolate(text); err != nil {
					return fmt.Errorf("%s: %w", at, err)
				}
			}
			if s.Expect != nil {
				for _, pat := range []any{s.Expect.Result, s.Expect.Error} {
					if _, err := known.compilePattern(pat); err != nil {
						return fmt.Errorf("%s: expect: %w", at, err)
					}
				}
			}
			for name, p := range s.Capture {
				if _, err := parsePath(p); err != nil {
					return fmt.Errorf("%s: capture %s: %w", at, name, err)
				}
				if _, err := known.interpolate(p); err != nil {
					return fmt.Errorf("%s: capture %s: %w", at, name, err)
				}
			}
			for name := range s.Capture {
				known[name] = "…"
			}
		}
	}
	return nil
}

type phase struct {
	name  string
	steps []Step
}

// label names a phase the way messages count its steps: setup 1, step 2, final_state 1.
func (p phase) label() string {
	if p.name == "steps" {
		return "step"
	}
	return p.name
}

func (t *Transcript) phases() []phase {
	return []phase{{"setup", t.Setup}, {"steps", t.Steps}, {"final_state", t.FinalState}}
}

// Load reads the transcripts at paths: files, or directories searched recursively for
// *.json files. Names must be unique across everything loaded.
func Load(paths ...string) ([]*Transcript, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := jsonFiles(os.DirFS(p), ".")
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			files = append(files, filepath.Join(p, filepath.FromSlash(f)))
		}
	}
	return parseAll(files, os.ReadFile)
}

//go:embed suite
var suiteFS embed.FS

// Suite returns the transcripts of evals/suite, built into the binary: what `relm eval`
// replays when given no paths.
func Suite() ([]*Transcript, error) {
	files, err := jsonFiles(suiteFS, "suite")
	if err != nil {
		return nil, err
	}
	ts, err := parseAll(files, suiteFS.ReadFile)
	for _, t := range ts {
		t.Path = "evals/" + t.Path // where the file lives in the repository
	}
	return ts, err
}

// jsonFiles lists the *.json files under dir in fsys, in lexical order.
func jsonFiles(fsys fs.FS, dir string) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
			files = append(files, path)
		}
		return err
	})
	return files, err
}

func parseAll(files []string, read func(string) ([]byte, error)) ([]*Transcript, error) {
	if len(files) == 0 {
		return nil, errors.New("evals: no transcripts (*.json) found")
	}
	var out []*Transcript
	seen := map[string]string{}
	for _, f := range files {
		data, err := read(f)
		if err != nil {
			return nil, err
		}
		t, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[t.Name]; dup {
			return nil, fmt.Errorf("%s: transcript name %q is already used by %s", f, t.Name, prev)
		}
		seen[t.Name] = f
		out = append(out, t)
	}
	return out, nil
}

// decodeJSON decodes one JSON value with exact numbers.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// schemaError renders a schema validation error as its deepest problems, one per line.
func schemaError(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	type leaf struct {
		err *jsonschema.ValidationError
		at  string
	}
	var leaves []leaf
	var walk func(e *jsonschema.ValidationError, parent []string, key string)
	walk = func(e *jsonschema.ValidationError, parent []string, key string) {
		if pn, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			// A key is validated as a value of its own, located nowhere: name it. The
			// error's own location is unreliable (jsonschema/v6.0.3 shares its buffer), so
			// it is the parent's: the object the $ref to captures points at.
			key = pointer(parent) + ", key " + strconv.Quote(pn.Property)
		}
		if len(e.Causes) == 0 {
			at := pointer(e.InstanceLocation)
			if key != "" {
				at = strings.TrimPrefix(key, ", ")
			}
			leaves = append(leaves, leaf{e, at})
		}
		for _, c := range e.Causes {
			walk(c, e.InstanceLocation, key)
		}
	}
	walk(ve, nil, "")
	var msgs []string
	for _, lf := range leaves {
		l, at := lf.err, lf.at
		if at == "" {
			at = "the top level"
		}
		m := "at " + at + ": " + l.ErrorKind.LocalizedString(printer)
		if _, isNot := l.ErrorKind.(*kind.Not); isNot { // the schema's only "not": no matchers in arguments
			m = "at " + at + ": matchers ($match) belong in expectations, not in arguments"
		}
		if !slices.Contains(msgs, m) {
			msgs = append(msgs, m)
		}
	}
	sort.Strings(msgs)
	return "does not match the transcript schema (evals/transcript.schema.json):\n  " + strings.Join(msgs, "\n  ")
}

// pointer writes a JSON Pointer for a path of keys.
func pointer(keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("/")
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(k))
	}
	return b.String()
}
