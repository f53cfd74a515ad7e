package evals

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/tools"
)

// DefaultRecordGap is how long a client may stay silent before its next tool call starts
// a new recorded session.
const DefaultRecordGap = 10 * time.Minute

// Recorder is MCP server middleware that writes the tool calls of each client session as
// a transcript file (see Transcribe), rewritten after every call so that the file is
// always complete. Relm's MCP server is stateless, so sessions are told apart this way:
//
//   - calls carrying an Mcp-Session-Id header belong to that session;
//   - other calls belong to the session of their API key (by key id), which ends when the
//     client connects again (initialize or server/discover) or stays silent for Gap.
//
// Two agents sharing a key at the same time are therefore recorded as one session.
// Only tools/call is recorded; nothing of the request's headers is written.
type Recorder struct {
	dir     string
	catalog Catalog
	log     *slog.Logger
	Gap     time.Duration
	now     func() time.Time

	mu       sync.Mutex
	sessions map[string]*recording // by group: "session:<Mcp-Session-Id>" or "key:<key id>"
}

// recording is one session being recorded.
type recording struct {
	name    string
	file    string
	mode    string
	plan    string
	client  string
	started time.Time
	last    time.Time // guarded by Recorder.mu, like ended
	ended   bool      // the client connected again: its next call starts a new recording

	mu    sync.Mutex
	next  int // sequence number of the next call to start
	calls map[int]Call
}

// NewRecorder records into dir (created if missing) the sessions of the tools in reg.
func NewRecorder(dir string, reg *tools.Registry, log *slog.Logger) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evals: record directory: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{dir: dir, catalog: CatalogOf(reg), log: log, Gap: DefaultRecordGap, now: time.Now,
		sessions: map[string]*recording{}}, nil
}

// RecordPlugin is the server plug-in (server.Config.MCPPlugins) recording into dir the
// sessions of the server's tools.
func RecordPlugin(dir string, log *slog.Logger) func(*tools.Registry) (mcp.Middleware, error) {
	return func(reg *tools.Registry) (mcp.Middleware, error) {
		r, err := NewRecorder(dir, reg, log)
		if err != nil {
			return nil, err
		}
		return r.Middleware, nil
	}
}

// CatalogOf describes the tools of reg for transcription.
func CatalogOf(reg *tools.Registry) Catalog {
	cat := Catalog{ReadOnly: map[string]bool{}, Inputs: map[string][]string{}}
	for _, e := range reg.Entries() {
		cat.ReadOnly[e.Name] = e.Annotations.ReadOnly
		props, _ := e.InputSchema["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		cat.Inputs[e.Name] = names
	}
	return cat
}

// Middleware is the mcp.Middleware to add with Server.AddReceivingMiddleware.
func (r *Recorder) Middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		group, mode := r.group(ctx, req)
		if group == "" {
			return next(ctx, method, req)
		}
		switch method {
		case "initialize", "server/discover":
			r.connected(group, clientName(req))
			return next(ctx, method, req)
		case "tools/call":
		default:
			return next(ctx, method, req)
		}
		call, ok := req.(*mcp.CallToolRequest)
		if !ok {
			return next(ctx, method, req)
		}
		plan := ""
		if a, ok := tools.AllowanceFrom(ctx); ok && a.Plan != "" && a.Plan != "free" {
			plan = a.Plan // replays need a workspace on the same plan
		}
		rec, seq := r.begin(group, mode, plan)
		res, err := next(ctx, method, req)
		c := Call{Tool: call.Params.Name, Arguments: call.Params.Arguments}
		if err != nil {
			c.ProtocolError = err.Error()
		} else if result, ok := res.(*mcp.CallToolResult); ok {
			c.IsError = result.IsError
			c.Result = resultJSON(result)
		}
		r.finish(rec, seq, c)
		return res, err
	}
}

// group is the session key of a request and the mode of its API key; "" when the
// request has no authenticated caller.
func (r *Recorder) group(ctx context.Context, req mcp.Request) (string, string) {
	caller, ok := auth.CallerFrom(ctx)
	if !ok {
		return "", ""
	}
	if extra := req.GetExtra(); extra != nil && extra.Header != nil {
		if id := extra.Header.Get("Mcp-Session-Id"); id != "" {
			return "session:" + caller.KeyID + ":" + id, string(caller.Mode)
		}
	}
	return "key:" + caller.KeyID, string(caller.Mode)
}

// connected notes that a client (re)connected: its next call starts a new recording.
func (r *Recorder) connected(group, client string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions[group] = &recording{client: client, last: r.now(), ended: true}
}

// begin finds or starts the recording of group and reserves the call's place in it.
func (r *Recorder) begin(group, mode, plan string) (*recording, int) {
	now := r.now()
	r.mu.Lock()
	for g, rec := range r.sessions { // forget sessions that went quiet
		if now.Sub(rec.last) > r.Gap && g != group {
			delete(r.sessions, g)
		}
	}
	rec, ok := r.sessions[group]
	if !ok || rec.ended || now.Sub(rec.last) > r.Gap {
		client := ""
		if ok {
			client = rec.client
		}
		rec = r.newRecording(now, mode, plan, client)
		r.sessions[group] = rec
	}
	rec.last = now
	r.mu.Unlock()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	seq := rec.next
	rec.next++
	return rec, seq
}

func (r *Recorder) newRecording(now time.Time, mode, plan, client string) *recording {
	b := make([]byte, 3)
	rand.Read(b) // never fails
	stamp := now.UTC().Format("20060102-150405")
	name := "recorded-" + stamp + "-" + hex.EncodeToString(b)
	return &recording{name: name, file: filepath.Join(r.dir, name+".json"), mode: mode, plan: plan, client: client,
		started: now, calls: map[int]Call{}}
}

// finish stores a finished call and rewrites the recording's file.
func (r *Recorder) finish(rec *recording, seq int, c Call) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.calls[seq] = c
	calls := make([]Call, 0, len(rec.calls))
	for i := 0; i < rec.next; i++ {
		if c, ok := rec.calls[i]; ok { // calls still running are written when they end
			calls = append(calls, c)
		}
	}
	t := Transcribe(rec.name, rec.description(len(calls)), rec.mode, calls, r.catalog)
	t.Plan = rec.plan
	if err := writeAtomic(rec.file, Encode(t)); err != nil {
		r.log.Error("evals: write recorded transcript", "file", rec.file, "err", err)
	}
}

func (rec *recording) description(calls int) string {
	from := ""
	if rec.client != "" {
		from = " from " + rec.client
	}
	return fmt.Sprintf("Recorded by relm serve --record%s, %s (%s mode, %d tool calls). Describe what the agent was asked to do.",
		from, rec.started.UTC().Format("2006-01-02 15:04 UTC"), rec.mode, calls)
}

// writeAtomic replaces file with data, so that a reader never sees half a transcript.
func writeAtomic(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".recording-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// resultJSON is the JSON of a tool result: its structuredContent, or else its text.
func resultJSON(res *mcp.CallToolResult) json.RawMessage {
	if res.StructuredContent != nil && !res.IsError {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			return b
		}
	}
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok && json.Valid([]byte(t.Text)) {
			return json.RawMessage(t.Text)
		}
	}
	return nil
}

// clientName is "name version" from an initialize or server/discover request, if given.
func clientName(req mcp.Request) string {
	var name, version string
	switch p := req.GetParams().(type) {
	case *mcp.InitializeParams:
		if p != nil && p.ClientInfo != nil {
			name, version = p.ClientInfo.Name, p.ClientInfo.Version
		}
	case *mcp.DiscoverParams:
		if p != nil {
			info, _ := p.Meta[mcp.MetaKeyClientInfo].(map[string]any)
			name, _ = info["name"].(string)
			version, _ = info["version"].(string)
		}
	}
	return strings.TrimSpace(name + " " + version)
}
