package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/tools"
)

// fakeCRM answers tool calls without a server: create_contact makes a contact with a new
// id; any other tool echoes its arguments.
func fakeCRM(_ context.Context, _ string, req mcp.Request) (mcp.Result, error) {
	call := req.(*mcp.CallToolRequest)
	var args map[string]any
	_ = json.Unmarshal(call.Params.Arguments, &args)
	if call.Params.Name == "create_contact" {
		n := args["n"].(float64)
		return &mcp.CallToolResult{StructuredContent: map[string]any{
			"object": "contact", "id": contactID(int(n)), "email": args["email"]}}, nil
	}
	return &mcp.CallToolResult{StructuredContent: map[string]any{"object": "echo", "arguments": args}}, nil
}

// contactID is the id of the n-th contact fakeCRM makes.
func contactID(n int) string {
	const base32 = "abcdefghijklmnopqrstuvwxyz234567"
	id := []byte("con_aaaaaaaaaaaaaaaaaaaaaaaaaa")
	for i := len(id) - 1; n > 0; i-- {
		id[i] = base32[n%32]
		n /= 32
	}
	return string(id)
}

// testRecorder records into a temporary directory on a clock the test moves.
func testRecorder(t *testing.T) (*Recorder, *time.Time) {
	t.Helper()
	reg, err := tools.NewRegistry(slog.New(slog.DiscardHandler), tools.All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRecorder(t.TempDir(), reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	return r, &clock
}

// callThrough makes one tools/call through the recorder, as the key key_a.
func callThrough(t *testing.T, r *Recorder, sel tools.Selection, tool string, args map[string]any) {
	t.Helper()
	ctx := tools.WithSelection(auth.WithCaller(context.Background(), auth.Caller{KeyID: "key_a", Mode: auth.Test}), sel)
	raw, _ := json.Marshal(args)
	req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: tool, Arguments: raw}, Extra: &mcp.RequestExtra{}}
	if _, err := r.Middleware(fakeCRM)(ctx, "tools/call", req); err != nil {
		t.Fatal(err)
	}
}

// transcripts lists the transcripts in the recorder's directory.
func transcripts(t *testing.T, r *Recorder) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(r.dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestRecordLinear records a 1,000-call session whose calls refer to records made before
// them. The recorder appends each call to the journal once and transcribes the session
// once, when it ends: the bytes it writes are bounded by the journal's and the
// transcript's sizes, where rewriting the transcript after each call would write about
// 500 transcripts' worth.
func TestRecordLinear(t *testing.T) {
	t.Parallel()
	r, _ := testRecorder(t)
	const n = 1000
	for i := range n {
		args := map[string]any{"email": fmt.Sprintf("c%d@example.com", i), "n": i}
		tool := "create_contact"
		if i%2 == 1 {
			tool, args = "get_contact", map[string]any{"id": contactID(i - 1)}
		}
		callThrough(t, r, tools.Selection{}, tool, args)
	}
	if got := r.stats.transcriptions.Load(); got != 0 {
		t.Fatalf("a session under way should not be transcribed; it was %d times", got)
	}
	journal, err := os.ReadFile(r.sessions["key:key_a"].journal)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(journal, []byte("\n")); lines != n+1 || r.stats.journalBytes.Load() != int64(len(journal)) {
		t.Fatalf("want each call appended once (a header and %d lines, %d bytes written), got %d lines and %d bytes written",
			n, len(journal), lines, r.stats.journalBytes.Load())
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := transcripts(t, r)
	if len(files) != 1 || r.stats.transcriptions.Load() != 1 {
		t.Fatalf("want one transcript written once, got %v written %d times", files, r.stats.transcriptions.Load())
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.stats.transcriptBytes.Load() != int64(len(data)) {
		t.Fatalf("wrote %d bytes of transcripts for a %d-byte transcript", r.stats.transcriptBytes.Load(), len(data))
	}
	tr, err := Parse(files[0], data)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Steps) != n || tr.Steps[n-1].Arguments["id"] != fmt.Sprintf("{{contact_id_%d}}", n/2) || tr.Steps[n-2].Capture == nil {
		t.Fatalf("want %d steps, the last referring to the contact made before it; got %d, %v", n, len(tr.Steps), tr.Steps[n-1].Arguments)
	}
}

// TestRecordGap: a session silent for longer than Gap ends: the sweeper writes it, and a
// later call starts a new recording.
func TestRecordGap(t *testing.T) {
	t.Parallel()
	r, clock := testRecorder(t)
	callThrough(t, r, tools.Selection{}, "create_contact", map[string]any{"email": "a@example.com", "n": 1})
	*clock = clock.Add(r.Gap - time.Second)
	r.endQuiet()
	if files := transcripts(t, r); len(files) != 0 {
		t.Fatalf("a session silent for less than Gap is under way: %v", files)
	}
	*clock = clock.Add(2 * time.Second)
	r.endQuiet()
	if files := transcripts(t, r); len(files) != 1 {
		t.Fatalf("a session silent for longer than Gap should be written: %v", files)
	}

	callThrough(t, r, tools.Selection{}, "create_contact", map[string]any{"email": "b@example.com", "n": 2})
	*clock = clock.Add(r.Gap + time.Second)
	callThrough(t, r, tools.Selection{}, "create_contact", map[string]any{"email": "c@example.com", "n": 3})
	if files := transcripts(t, r); len(files) != 2 {
		t.Fatalf("a call after the gap should end the session before it: %v", files)
	}
}

// TestRecordRunningCall: a session that ends while one of its calls runs is written when
// the call ends, with the call.
func TestRecordRunningCall(t *testing.T) {
	t.Parallel()
	r, _ := testRecorder(t)
	callThrough(t, r, tools.Selection{}, "create_contact", map[string]any{"email": "a@example.com", "n": 1})
	release, done := make(chan struct{}), make(chan struct{})
	slow := func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		<-release
		return fakeCRM(ctx, method, req)
	}
	ctx := auth.WithCaller(context.Background(), auth.Caller{KeyID: "key_a", Mode: auth.Test})
	go func() {
		defer close(done)
		req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "list_contacts", Arguments: json.RawMessage(`{}`)}, Extra: &mcp.RequestExtra{}}
		_, _ = r.Middleware(slow)(ctx, "tools/call", req)
	}()
	for { // wait until the slow call has begun
		r.mu.Lock()
		rec := r.sessions["key:key_a"]
		rec.mu.Lock()
		running := rec.running
		rec.mu.Unlock()
		r.mu.Unlock()
		if running == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	connect := &mcp.InitializeRequest{Params: &mcp.InitializeParams{}}
	if _, err := r.Middleware(func(context.Context, string, mcp.Request) (mcp.Result, error) { return nil, nil })(ctx, "initialize", connect); err != nil {
		t.Fatal(err)
	}
	if files := transcripts(t, r); len(files) != 0 {
		t.Fatalf("the session should be written when its running call ends, not before: %v", files)
	}
	close(release)
	<-done
	files := transcripts(t, r)
	if len(files) != 1 {
		t.Fatalf("want the ended session written, got %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if tr, err := Parse(files[0], data); err != nil || len(tr.Steps) != 2 || tr.Steps[1].Tool != "list_contacts" {
		t.Fatalf("want both calls in the transcript (%v):\n%s", err, data)
	}
}

// BenchmarkTranscribe transcribes sessions of growing length: the time per call should
// stay flat.
func BenchmarkTranscribe(b *testing.B) {
	reg, err := tools.NewRegistry(slog.New(slog.DiscardHandler), tools.All(nil)...)
	if err != nil {
		b.Fatal(err)
	}
	cat := CatalogOf(reg)
	for _, n := range []int{250, 1000, 4000} {
		calls := make([]Call, n)
		for i := range calls {
			args, _ := json.Marshal(map[string]any{"email": fmt.Sprintf("c%d@example.com", i), "n": i, "at": "2026-12-01T09:00:00Z"})
			req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "create_contact", Arguments: args}}
			res, _ := fakeCRM(context.Background(), "tools/call", req)
			calls[i] = Call{Tool: "create_contact", Arguments: args, Result: resultJSON(res.(*mcp.CallToolResult))}
			if i%2 == 1 {
				args, _ := json.Marshal(map[string]any{"id": contactID(i - 1)})
				calls[i] = Call{Tool: "get_contact", Arguments: args, Result: calls[i-1].Result}
			}
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				Transcribe("bench", "d", "test", calls, cat)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/call")
		})
	}
}
