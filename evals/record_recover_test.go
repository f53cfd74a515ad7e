package evals_test

import (
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/relmcrm/relm/evals"
)

// TestRecordRecoverAfterCrash: a server killed mid-session leaves the session's journal and
// no transcript; the next recorder on the directory writes the transcript from the journal,
// leaving out a last line the crash cut short, and removes the journal.
func TestRecordRecoverAfterCrash(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	cs := rs.session()
	cmp := call(t, cs, "create_company", map[string]any{"name": "Initech"})
	call(t, cs, "create_contact", map[string]any{"email": "peter@initech.com", "company_id": cmp["id"]})
	call(t, cs, "list_contacts", map[string]any{"company_id": cmp["id"]})
	// The server is never closed: as after a SIGKILL, only the journal is on disk.
	journals := rs.journals()
	if len(journals) != 1 || len(rs.recordings()) != 0 {
		t.Fatalf("want one journal and no transcript before recovery, got %v and %d", journals, len(rs.recordings()))
	}
	f, err := os.OpenFile(journals[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"seq":3,"tool":"create_de`) // a write the kill cut short
	f.Close()

	rec, err := evals.NewRecorder(rs.Dir, rs.srv.Registry, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close(t.Context()) })
	if _, err := os.Stat(journals[0]); !os.IsNotExist(err) {
		t.Fatalf("the recovered journal should be removed: %v", err)
	}
	recs := rs.recordings()
	data, ok := recs[strings.TrimSuffix(journals[0], ".jsonl")+".json"]
	if !ok || len(recs) != 1 {
		t.Fatalf("want the transcript next to the journal, got %v", recs)
	}
	tr, _ := evals.Parse("recovered", data)
	if len(tr.Steps) != 3 || tr.Steps[1].Arguments["company_id"] != "{{company_id}}" {
		t.Fatalf("want the 3 journaled calls, transcribed as usual:\n%s", data)
	}
	rs.replay(tr, data)
}

// TestRecordRecoverWritten: a journal whose transcript was written before the crash (which
// came before the journal's removal) is removed, and the transcript left as it is.
func TestRecordRecoverWritten(t *testing.T) {
	t.Parallel()
	rs := newRecordingServer(t)
	call(t, rs.session(), "create_company", map[string]any{"name": "Initrode"})
	journal := rs.journals()[0]
	transcript := strings.TrimSuffix(journal, ".jsonl") + ".json"
	if err := os.WriteFile(transcript, []byte("written before the crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := evals.NewRecorder(rs.Dir, rs.srv.Registry, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close(t.Context()) })
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Fatalf("the journal should be removed: %v", err)
	}
	if data, _ := os.ReadFile(transcript); string(data) != "written before the crash" {
		t.Fatalf("the transcript should be left alone, got %q", data)
	}
}
