package evals

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/tools"
)

// DefaultRecordGap is how long a client may stay silent before its recorded session ends
// (its next tool call starts a new one).
const DefaultRecordGap = 10 * time.Minute

// sweepEvery is how often the recorder looks for sessions that went quiet, to write them.
const sweepEvery = time.Minute

// Recorder is MCP server middleware that records the tool calls of each client session:
// each call, as it ends, is appended to the session's journal, and the transcript (see
// Transcribe) is written once, when the session ends. Relm's MCP server is stateless, so
// sessions are told apart this way:
//
//   - calls carrying an Mcp-Session-Id header belong to that session;
//   - other calls belong to the session of their API key (by key id).
//
// A session ends when its client connects again (initialize or server/discover), calls
// under another tool selection (?toolsets=…&read_only=…), stays silent for Gap, or when
// the recorder closes. Two agents sharing a key at the same time are therefore recorded as
// one session. Only tools/call is recorded; nothing of the request's headers is written.
type Recorder struct {
	dir     string
	catalog Catalog
	log     *slog.Logger
	Gap     time.Duration // the silence that ends a session (DefaultRecordGap); set before serving
	now     func() time.Time

	mu       sync.Mutex
	sessions map[string]*recording // by group: "session:<key id>:<Mcp-Session-Id>" or "key:<key id>"
	closed   bool

	stop  chan struct{} // tells the sweeper to stop
	swept chan struct{} // closed when it has stopped
	stats recordStats
}

// recordStats count what the recorder wrote, to show that the cost of recording is
// linear in the length of the sessions.
type recordStats struct {
	journalBytes    atomic.Int64 // appended to journals
	transcriptBytes atomic.Int64 // of transcripts written
	transcriptions  atomic.Int64 // transcripts written
}

// recording is one session being recorded.
type recording struct {
	header    journalHeader
	journal   string // its file
	selection tools.Selection
	last      time.Time // guarded by Recorder.mu, like ended
	ended     bool      // no later call joins it

	mu      sync.Mutex
	file    *os.File // the open journal; nil until the first call ends
	next    int      // sequence number of the next call to start
	running int      // calls started and not yet finished
	closing bool     // ended: the transcript is written when no call is running
	done    bool     // the transcript is written; calls still ending are not recorded
}

// NewRecorder records into dir (created if missing) the sessions of the tools in reg, after
// writing the transcripts of journals a crashed server left there (see Recover). Close it
// to write the sessions under way.
func NewRecorder(dir string, reg *tools.Registry, log *slog.Logger) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evals: record directory: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{dir: dir, catalog: CatalogOf(reg), log: log, Gap: DefaultRecordGap, now: time.Now,
		sessions: map[string]*recording{}, stop: make(chan struct{}), swept: make(chan struct{})}
	if err := r.Recover(); err != nil {
		log.Error("evals: transcribe the journals of an earlier run", "dir", dir, "err", err)
	}
	go r.sweepQuiet(sweepEvery)
	return r, nil
}

// RecordPlugin is the server plug-in (server.Config.MCPPlugins) recording into dir the
// sessions of the server's tools; the server's Close writes the sessions under way.
func RecordPlugin(dir string, log *slog.Logger) func(*tools.Registry) (mcp.Middleware, func(context.Context) error, error) {
	return func(reg *tools.Registry) (mcp.Middleware, func(context.Context) error, error) {
		r, err := NewRecorder(dir, reg, log)
		if err != nil {
			return nil, nil, err
		}
		return r.Middleware, r.Close, nil
	}
}

// CatalogOf describes the tools of reg for transcription.
func CatalogOf(reg *tools.Registry) Catalog {
	cat := Catalog{ReadOnly: map[string]bool{}, Inputs: map[string][]string{}, Toolsets: map[string]string{}}
	for _, e := range reg.Entries() {
		// Calls are recorded by the names MCP clients call them by; where two tools share one
		// (search, and chatgpt's search), the catalog describes the first, which is
		// read-only like the other and takes no part in setup.
		name := e.ToolName()
		if _, taken := cat.Toolsets[name]; taken {
			continue
		}
		cat.ReadOnly[name] = e.Annotations.ReadOnly
		cat.Toolsets[name] = e.Toolset
		if tools.DefaultSelection.Includes(e) {
			cat.Core = append(cat.Core, name)
		}
		props, _ := e.InputSchema["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		cat.Inputs[name] = names
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
		rec, seq := r.begin(group, mode, plan, tools.SelectionFrom(ctx))
		if rec == nil { // the recorder is closed
			return next(ctx, method, req)
		}
		res, err := next(ctx, method, req)
		c := Call{Tool: call.Params.Name, Arguments: redactKeys(call.Params.Arguments)}
		if err != nil {
			c.ProtocolError = string(redactKeys([]byte(err.Error())))
		} else if result, ok := res.(*mcp.CallToolResult); ok {
			c.IsError = result.IsError
			c.Result = redactKeys(resultJSON(result))
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

// connected notes that a client (re)connected: the session it had ends, and its next call
// starts a new recording.
func (r *Recorder) connected(group, client string) {
	r.mu.Lock()
	old := r.sessions[group]
	if !r.closed {
		r.sessions[group] = &recording{header: journalHeader{Client: client}, last: r.now(), ended: true}
	}
	r.mu.Unlock()
	r.end(old)
}

// begin finds or starts the recording of group and reserves the call's place in it; nil
// once the recorder is closed. The recording it replaces, if any, ends.
func (r *Recorder) begin(group, mode, plan string, sel tools.Selection) (*recording, int) {
	now := r.now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, 0
	}
	var ended *recording
	rec, ok := r.sessions[group]
	if !ok || rec.ended || now.Sub(rec.last) > r.Gap || !sameSelection(rec.selection, sel) {
		if ok && !rec.ended {
			ended = rec // went quiet, or the client changed its selection
		}
		client := ""
		if ok {
			client = rec.header.Client
		}
		rec = r.newRecording(now, mode, plan, client, sel)
		r.sessions[group] = rec
	}
	rec.last = now
	rec.mu.Lock()
	seq := rec.next
	rec.next++
	rec.running++
	rec.mu.Unlock()
	r.mu.Unlock()
	r.end(ended)
	return rec, seq
}

func sameSelection(a, b tools.Selection) bool {
	return a.ReadOnly == b.ReadOnly && slices.Equal(a.Names(), b.Names())
}

func (r *Recorder) newRecording(now time.Time, mode, plan, client string, sel tools.Selection) *recording {
	b := make([]byte, 3)
	rand.Read(b) // never fails
	stamp := now.UTC().Format("20060102-150405")
	name := "recorded-" + stamp + "-" + hex.EncodeToString(b)
	return &recording{
		header: journalHeader{Name: name, Mode: mode, Plan: plan, Client: client, Started: now.UTC(),
			Toolsets: sel.Names(), ReadOnly: sel.ReadOnly},
		journal: filepath.Join(r.dir, name+journalExt), selection: sel,
	}
}

// finish appends a finished call to the recording's journal, and writes the transcript
// if the session ended while the call ran.
func (r *Recorder) finish(rec *recording, seq int, c Call) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.running--
	if rec.done {
		r.log.Warn("evals: a call ended after its session's transcript was written; not recorded", "transcript", rec.header.Name, "tool", c.Tool)
		return
	}
	if err := r.append(rec, seq, c); err != nil {
		r.log.Error("evals: journal a recorded call", "file", rec.journal, "err", err)
	}
	if rec.closing && rec.running == 0 {
		_ = r.transcribe(rec)
	}
}

// end ends a recording: its transcript is written now, or when its last running call ends.
func (r *Recorder) end(rec *recording) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.closing = true
	if rec.running == 0 && !rec.done {
		_ = r.transcribe(rec)
	}
}

// transcribe closes the recording's journal and writes its transcript. Called with rec.mu held.
func (r *Recorder) transcribe(rec *recording) error {
	rec.done = true
	if rec.file == nil {
		return nil // no call ended: nothing to write
	}
	err := rec.file.Close()
	rec.file = nil
	if err == nil {
		err = r.writeTranscript(rec.journal)
	}
	if err != nil {
		r.log.Error("evals: write recorded transcript", "journal", rec.journal, "err", err)
	}
	return err
}

// sweepQuiet ends, every interval, the sessions that stayed silent for longer than Gap.
func (r *Recorder) sweepQuiet(interval time.Duration) {
	defer close(r.swept)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.endQuiet()
		}
	}
}

// endQuiet ends the sessions that stayed silent for longer than Gap.
func (r *Recorder) endQuiet() {
	now := r.now()
	var quiet []*recording
	r.mu.Lock()
	for g, rec := range r.sessions {
		if now.Sub(rec.last) > r.Gap {
			delete(r.sessions, g)
			quiet = append(quiet, rec)
		}
	}
	r.mu.Unlock()
	for _, rec := range quiet {
		r.end(rec)
	}
}

// Close ends every session under way and writes its transcript; later calls are not
// recorded. Call it once the HTTP server has drained; calling it again does nothing.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	sessions := r.sessions
	r.sessions = nil
	r.mu.Unlock()
	close(r.stop)
	<-r.swept
	var errs []error
	for _, rec := range sessions {
		rec.mu.Lock()
		if !rec.done { // calls still running (the server did not drain) are left out
			errs = append(errs, r.transcribe(rec))
		}
		rec.mu.Unlock()
	}
	return errors.Join(errs...)
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

// redactKeys replaces the API keys in b (an argument pasted by the agent, create_api_key's
// secret) by a stand-in of the same form, so that no key reaches the journal; Transcribe
// treats the stand-in as it would the key.
func redactKeys(b []byte) []byte {
	if b == nil {
		return nil
	}
	return secretRe.ReplaceAll(b, []byte("sk_${1}_REDACTEDREDACTEDREDACTEDREDACTED"))
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
