package evals_test

import (
	"strings"
	"testing"

	"github.com/relmcrm/relm/evals"
)

// TestReplayUnknownToolset: a transcript naming a toolset the server does not have fails
// when it connects, with the server's explanation.
func TestReplayUnknownToolset(t *testing.T) {
	t.Parallel()
	sb, _, _ := newSandbox(t)
	tr := &evals.Transcript{Name: "unknown-toolset", Description: "d", Toolsets: []string{"contacts", "people"},
		Steps: []evals.Step{{Tool: "list_contacts"}}}
	r := (&evals.Runner{Target: sb}).RunOne(t.Context(), tr)
	if r.Passed || r.Failure.Phase != "connect" || !strings.Contains(r.Failure.Message, `"people" is not a toolset`) {
		t.Fatalf("want a connect failure naming the unknown toolset, got %+v", r.Failure)
	}
}

// TestReplayFinalStateUnderSelection: final_state's read-only check lists the tools of
// the transcript's selection: a read the selection serves passes, one it hides fails and
// says why.
func TestReplayFinalStateUnderSelection(t *testing.T) {
	t.Parallel()
	sb, _, _ := newSandbox(t)
	tr := &evals.Transcript{Name: "final-state-selection", Description: "d", Toolsets: []string{"contacts"},
		Steps:      []evals.Step{{Tool: "create_contact", Arguments: map[string]any{"email": "a@example.com"}}},
		FinalState: []evals.Step{{Tool: "list_contacts", Expect: &evals.Expect{Result: map[string]any{"data": map[string]any{"$match": "array", "len": 1}}}}}}
	if r := (&evals.Runner{Target: sb}).RunOne(t.Context(), tr); !r.Passed {
		t.Fatalf("final_state under a selection should pass: %+v", r.Failure)
	}
	tr.FinalState = append(tr.FinalState, evals.Step{Tool: "list_deals"})
	r := (&evals.Runner{Target: sb}).RunOne(t.Context(), tr)
	if r.Passed || r.Failure.Phase != "final_state" || !strings.Contains(r.Failure.Message, "toolsets and read_only hide tools") {
		t.Fatalf("a final_state read the selection hides should fail saying why, got %+v", r.Failure)
	}
}

// TestTranscriptEndpoint: the selection becomes the query of the endpoint a replay dials.
func TestTranscriptEndpoint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tr   evals.Transcript
		base string
		want string
	}{
		{evals.Transcript{}, "http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp?toolsets=all"},
		{evals.Transcript{Toolsets: []string{"core", "webhooks"}}, "http://h/mcp", "http://h/mcp?toolsets=core,webhooks"},
		{evals.Transcript{Toolsets: []string{"contacts", "deals"}}, "http://h/mcp", "http://h/mcp?toolsets=contacts,deals"},
		{evals.Transcript{ReadOnly: true}, "https://h/relm/mcp", "https://h/relm/mcp?read_only=true&toolsets=all"},
		{evals.Transcript{Toolsets: []string{"deals"}, ReadOnly: true}, "http://h/mcp", "http://h/mcp?read_only=true&toolsets=deals"},
	} {
		if got := c.tr.Endpoint(c.base); got != c.want {
			t.Errorf("Endpoint(%q) with %v, %v = %q, want %q", c.base, c.tr.Toolsets, c.tr.ReadOnly, got, c.want)
		}
	}
}
