package evals_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/evals"
)

// TestRecordSelection records a session connected with ?toolsets=contacts&read_only=true:
// the transcript keeps the selection, and its replay connects with it. The session's call
// to a tool the selection hides replays as the same protocol error, which it would not be
// if the replay saw every tool.
func TestRecordSelection(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	cs := rs.sessionAt("/mcp?toolsets=contacts&read_only=true")
	call(t, cs, "list_contacts", map[string]any{"limit": 5})
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "create_contact", Arguments: map[string]any{"email": "hidden@example.com"}}); err == nil {
		t.Fatal("create_contact is hidden by read_only=true: calling it should be a protocol error")
	}

	tr, data := rs.only()
	if !slices.Equal(tr.Toolsets, []string{"contacts"}) || !tr.ReadOnly {
		t.Fatalf("the selection was not recorded:\n%s", data)
	}
	if len(tr.Steps) != 2 || tr.Steps[1].Expect == nil || tr.Steps[1].Expect.ProtocolError == nil {
		t.Fatalf("want the hidden tool's call recorded as a protocol error:\n%s", data)
	}
	rs.replay(tr, data)

	everything := *tr
	everything.Toolsets, everything.ReadOnly = nil, false
	r := (&evals.Runner{Target: rs.SB}).RunOne(t.Context(), &everything)
	if r.Passed || r.Failure.Step != 2 || !strings.Contains(r.Failure.Message, "expected an MCP protocol error") {
		t.Fatalf("without its selection the replay should reach create_contact: %+v", r.Failure)
	}
}

// TestRecordSelectionChange: a call under another selection ends the session, as a
// reconnection does; each recording keeps its own selection.
func TestRecordSelectionChange(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	call(t, rs.session(), "create_contact", map[string]any{"email": "one@example.com"})
	// The same key, without a new initialize (the stateless server answers a bare call).
	rs.rawCall("/mcp?toolsets=contacts", "list_contacts")
	rs.rawCall("/mcp", "list_contacts")
	rs.shutDown()
	recs := rs.recordings()
	if len(recs) != 3 {
		t.Fatalf("want 3 recordings (every tool, contacts, every tool), got %d", len(recs))
	}
	var narrowed int
	for f, data := range recs {
		tr, _ := evals.Parse(f, data)
		if slices.Equal(tr.Toolsets, []string{"contacts"}) {
			narrowed++
			if len(tr.Steps) != 1 || tr.Steps[0].Tool != "list_contacts" {
				t.Fatalf("the contacts session should hold its one call:\n%s", data)
			}
		}
	}
	if narrowed != 1 {
		t.Fatalf("want one recording with toolsets [contacts], got %d", narrowed)
	}
}

// rawCall sends one tools/call to path over plain HTTP, as a client that skips initialize.
func (rs *recordingServer) rawCall(path, tool string) {
	rs.t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
	req, _ := http.NewRequest("POST", rs.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+rs.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"result"`) {
		rs.t.Fatalf("%s %s: %d %s", tool, path, res.StatusCode, raw)
	}
}

// TestRecordSelectionHidesSetup: a read-only session that used a contact made before it
// gets a setup step its replay cannot make, since read_only hides create_contact; the
// step says so, and the replay fails there with that note.
func TestRecordSelectionHidesSetup(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	ada := rs.rest("POST", "/v1/contacts", map[string]any{"email": "ada@example.com"})
	cs := rs.sessionAt("/mcp?read_only=true")
	call(t, cs, "get_contact", map[string]any{"id": ada["id"]})
	tr, data := rs.only()
	if len(tr.Setup) != 1 || !strings.Contains(tr.Setup[0].Note, "create_contact is hidden") {
		t.Fatalf("want the setup step flagged as hidden by the selection:\n%s", data)
	}
	r := (&evals.Runner{Target: rs.SB}).RunOne(t.Context(), tr)
	if r.Passed || r.Failure.Phase != "setup" || r.Failure.Note != tr.Setup[0].Note {
		t.Fatalf("want the replay to fail at the flagged setup step, got %+v", r.Failure)
	}
}
