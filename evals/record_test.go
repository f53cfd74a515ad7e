package evals_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/evals/sandbox"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
)

// recordingServer is a Relm server that records MCP sessions into Dir, with a test key
// for a workspace of its own.
type recordingServer struct {
	t     *testing.T
	URL   string
	Key   string
	Dir   string
	Store *store.Store
	Admin *store.Admin
	SB    *sandbox.Sandbox
	srv   *server.Server
}

func newRecordingServer(t *testing.T) *recordingServer {
	t.Helper()
	sb, s, admin := newSandbox(t)
	dir := t.TempDir()
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.DiscardHandler), MCPPlugins: []server.MCPPlugin{evals.RecordPlugin(dir, nil)}, SecretKey: server.NewSecretKey()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ws, _, err := admin.EnsureWorkspace(t.Context(), "agent")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := admin.CreateAPIKey(t.Context(), ws.ID, auth.Test)
	if err != nil {
		t.Fatal(err)
	}
	return &recordingServer{t: t, URL: hs.URL, Key: key, Dir: dir, Store: s, Admin: admin, SB: sb, srv: srv}
}

// session connects an MCP client, adding header (name, value pairs) to every request.
func (rs *recordingServer) session(header ...string) *mcp.ClientSession {
	rs.t.Helper()
	return rs.sessionAt("/mcp?toolsets=all", header...)
}

// sessionAt connects an MCP client to path (/mcp with a query), adding header (name, value
// pairs) to every request.
func (rs *recordingServer) sessionAt(path string, header ...string) *mcp.ClientSession {
	rs.t.Helper()
	client := &http.Client{Transport: testkit.Bearer{Header: header}}
	cs, err := evals.Dial(context.Background(), rs.URL+path, rs.Key, client)
	if err != nil {
		rs.t.Fatal(err)
	}
	rs.t.Cleanup(func() { cs.Close() })
	return cs
}

// rest sends a REST request to the recording server (REST calls are never recorded).
func (rs *recordingServer) rest(method, path string, body any) map[string]any {
	rs.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, rs.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+rs.Key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		rs.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// shutDown closes the server as relm serve does on shutdown, which ends the sessions under
// way and writes their transcripts.
func (rs *recordingServer) shutDown() {
	rs.t.Helper()
	if err := rs.srv.Close(rs.t.Context()); err != nil {
		rs.t.Fatal(err)
	}
}

// journals returns the journals of the sessions under way.
func (rs *recordingServer) journals() []string {
	rs.t.Helper()
	files, err := filepath.Glob(filepath.Join(rs.Dir, "*.jsonl"))
	if err != nil {
		rs.t.Fatal(err)
	}
	return files
}

// recordings returns the transcript files written so far, parsed.
func (rs *recordingServer) recordings() map[string][]byte {
	rs.t.Helper()
	files, err := filepath.Glob(filepath.Join(rs.Dir, "*.json"))
	if err != nil {
		rs.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			rs.t.Fatal(err)
		}
		if _, err := evals.Parse(f, data); err != nil {
			rs.t.Fatalf("recorded transcript does not load: %v\n%s", err, data)
		}
		out[f] = data
	}
	return out
}

// only shuts the server down and returns the one recording, failing unless there is
// exactly one.
func (rs *recordingServer) only() (*evals.Transcript, []byte) {
	rs.t.Helper()
	rs.shutDown()
	recs := rs.recordings()
	if len(recs) != 1 {
		rs.t.Fatalf("want one recorded session, got %d", len(recs))
	}
	for f, data := range recs {
		tr, _ := evals.Parse(f, data)
		return tr, data
	}
	panic("unreachable")
}

// replay runs a recorded transcript in a fresh workspace and requires it to pass.
func (rs *recordingServer) replay(tr *evals.Transcript, data []byte) {
	rs.t.Helper()
	if d := os.Getenv("DUMP"); d != "" {
		_ = os.WriteFile(filepath.Join(d, tr.Name+".json"), data, 0o644)
	}
	if r := (&evals.Runner{Target: rs.SB}).RunOne(rs.t.Context(), tr); !r.Passed {
		rs.t.Fatalf("the recorded session does not replay:\n%s\n%s", r.Failure.Describe(), data)
	}
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) map[string]any {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var body map[string]any
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			_ = json.Unmarshal([]byte(tc.Text), &body)
		}
	}
	return body
}

var anySecret = regexp.MustCompile(`sk_(live|test)_[0-9A-Za-z]{32}`)

// TestRecordThenReplay records an agent session in-process, then replays the file it
// wrote in a fresh workspace, unedited.
func TestRecordThenReplay(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	cs := rs.session()

	cmp := call(t, cs, "create_company", map[string]any{"name": "Analytical Engines", "domain": "analytical-engines.org"})
	ada := call(t, cs, "create_contact", map[string]any{"email": "ada@analytical-engines.org", "first_name": "Ada", "last_name": "Lovelace", "company_id": cmp["id"]})
	call(t, cs, "create_contact", map[string]any{"email": "ADA@analytical-engines.org"}) // already_exists
	call(t, cs, "list_contacts", map[string]any{"email": "ada@analytical-engines.org"})
	deal := call(t, cs, "create_deal", map[string]any{"title": "Engines — 50 seats", "value_cents": 1250000, "company_id": cmp["id"], "primary_contact_id": ada["id"]})
	call(t, cs, "move_deal_stage", map[string]any{"id": deal["id"], "stage": "closed-won"}) // validation_failed
	call(t, cs, "move_deal_stage", map[string]any{"id": deal["id"], "stage": "won"})
	call(t, cs, "log_activity", map[string]any{"type": "call", "subject": "Kick-off about " + deal["id"].(string), "contact_id": ada["id"], "deal_id": deal["id"]})
	call(t, cs, "log_activity", map[string]any{"type": "note", "company_id": cmp["id"], "occurred_at": "2026-11-02T09:30:00Z", "metadata": map[string]any{"$ref": "not a reference"}})
	call(t, cs, "get_contact", map[string]any{"id": ada["id"]})
	call(t, cs, "search", map[string]any{"q": "ada lov"})
	events := call(t, cs, "list_events", map[string]any{"limit": 2})
	call(t, cs, "list_events", map[string]any{"limit": 2, "cursor": events["next_cursor"]})
	first := events["data"].([]any)[0].(map[string]any)
	call(t, cs, "get_event", map[string]any{"id": first["id"]})
	newKey := call(t, cs, "create_api_key", nil)
	call(t, cs, "list_api_keys", nil)
	call(t, cs, "revoke_api_key", map[string]any{"id": newKey["id"]})
	call(t, cs, "get_usage", nil)
	call(t, cs, "list_request_logs", map[string]any{"limit": 5})
	call(t, cs, "get_deal", map[string]any{"id": "deal_aaaaaaaaaaaaaaaaaaaaaaaaaa"}) // not_found
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_person", Arguments: map[string]any{}}); err == nil {
		t.Fatal("an unknown tool should be a protocol error")
	}

	for _, j := range rs.journals() {
		journal, _ := os.ReadFile(j)
		if strings.Contains(string(journal), rs.Key) || strings.Contains(string(journal), newKey["secret"].(string)) {
			t.Fatalf("a session's journal holds an API key:\n%s", journal)
		}
	}
	tr, data := rs.only()
	if strings.Contains(string(data), rs.Key) || strings.Contains(string(data), newKey["secret"].(string)) || anySecret.Match(data) {
		t.Fatalf("a recorded transcript holds an API key:\n%s", data)
	}
	if len(tr.Steps) != 21 || len(tr.Setup) != 0 || tr.Mode != "test" {
		t.Fatalf("want 21 steps, no setup, test mode; got %d, %d, %q", len(tr.Steps), len(tr.Setup), tr.Mode)
	}
	if s := tr.Steps[1]; s.Arguments["company_id"] != "{{company_id}}" || s.Capture["contact_id"] != "/id" {
		t.Fatalf("step 2 should use the captured company and capture the contact: %+v", s)
	}
	rs.replay(tr, data)
}

// TestRecordExistingRecords records a session that works on records made before it (here
// over REST): the transcript recreates them in setup, and replays in an empty workspace.
func TestRecordExistingRecords(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	cmp := rs.rest("POST", "/v1/companies", map[string]any{"name": "Globex", "domain": "globex.com"})
	rs.rest("POST", "/v1/contacts", map[string]any{"email": "hank@globex.com", "first_name": "Hank", "last_name": "Scorpio", "company_id": cmp["id"]})
	rs.rest("POST", "/v1/contacts", map[string]any{"email": "mindy@globex.com", "first_name": "Mindy"})
	rs.rest("POST", "/v1/deals", map[string]any{"title": "Globex doomsday device", "value_cents": 990000, "stage": "proposal", "company_id": cmp["id"]})

	cs := rs.session()
	found := call(t, cs, "search", map[string]any{"q": "hank", "types": []any{"contact"}})
	hank := found["data"].([]any)[0].(map[string]any)
	call(t, cs, "log_activity", map[string]any{"type": "call", "subject": "Intro call", "contact_id": hank["id"]})
	call(t, cs, "create_contact", map[string]any{"email": "MINDY@globex.com", "first_name": "Mindy"}) // already_exists: Mindy was there
	call(t, cs, "batch_upsert_contacts", map[string]any{"dedup_on": []any{"email"}, "contacts": []any{
		map[string]any{"email": "hank@globex.com", "phone": "+15550100"},
		map[string]any{"email": "homer@globex.com", "first_name": "Homer"},
	}})
	deals := call(t, cs, "list_deals", map[string]any{"stage": "proposal"})
	deal := deals["data"].([]any)[0].(map[string]any)
	call(t, cs, "move_deal_stage", map[string]any{"id": deal["id"], "stage": "won"})
	call(t, cs, "list_contacts", map[string]any{"company_id": cmp["id"]})

	tr, data := rs.only()
	if len(tr.Setup) != 4 { // the company, Hank, Mindy (as the email that collided) and the deal
		t.Fatalf("want 4 setup calls recreating what existed, got %d:\n%s", len(tr.Setup), data)
	}
	rs.replay(tr, data)
}

// TestRecordSessions checks how calls are grouped into sessions: a reconnection starts a
// new one, and Mcp-Session-Id headers keep interleaved sessions apart.
func TestRecordSessions(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	a := rs.session()
	call(t, a, "create_contact", map[string]any{"email": "one@example.com"})
	if n, j := len(rs.recordings()), len(rs.journals()); n != 0 || j != 1 {
		t.Fatalf("a session under way is journaled, not transcribed: %d transcripts, %d journals", n, j)
	}
	b := rs.session() // a new connection with the same key
	if n := len(rs.recordings()); n != 1 {
		t.Fatalf("a reconnection should end the session and write its transcript: %d files", n)
	}
	call(t, b, "create_contact", map[string]any{"email": "two@example.com"})

	x := rs.session("Mcp-Session-Id", "agent-x")
	y := rs.session("Mcp-Session-Id", "agent-y")
	call(t, x, "create_company", map[string]any{"name": "X1"})
	call(t, y, "create_company", map[string]any{"name": "Y1"})
	call(t, x, "create_company", map[string]any{"name": "X2"})
	rs.shutDown()
	if j := rs.journals(); len(j) != 0 {
		t.Fatalf("shutting down should transcribe every journal: %v", j)
	}
	recs := rs.recordings()
	if len(recs) != 4 {
		t.Fatalf("want 4 recordings, got %d", len(recs))
	}
	var sawX bool
	for _, data := range recs {
		s := string(data)
		if strings.Contains(s, `"X1"`) {
			sawX = strings.Contains(s, `"X2"`) && !strings.Contains(s, `"Y1"`)
		}
	}
	if !sawX {
		t.Fatal("the calls of session agent-x should be recorded together, apart from agent-y's")
	}
}

// TestRecordPlan: a session on the Team plan is replayed in a workspace on the Team plan.
func TestRecordPlan(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	if err := rs.Admin.SetWorkspacePlan(t.Context(), "agent", "team"); err != nil {
		t.Fatal(err)
	}
	cs := rs.session()
	c := call(t, cs, "create_contact", map[string]any{"email": "champion@example.com"})
	d := call(t, cs, "create_deal", map[string]any{"title": "Team deal"})
	call(t, cs, "create_association", map[string]any{"from_type": "contact", "from_id": c["id"], "to_type": "deal", "to_id": d["id"], "label": "champion"})
	tr, data := rs.only()
	if tr.Plan != "team" {
		t.Fatalf("the plan was not recorded:\n%s", data)
	}
	rs.replay(tr, data)
}
