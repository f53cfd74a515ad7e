package bench

import (
	"encoding/json"
	"testing"
)

// TestRowsOf: a decoded list of objects becomes the []map[string]any the raw SQL of a batch
// reads; other values, and lists of anything else, stay as decoded.
func TestRowsOf(t *testing.T) {
	var args map[string]any
	if err := json.Unmarshal([]byte(`{"contacts":[{"email":"a@example.com"},{"email":"b@example.com"}],"dedup_on":["email"],"id":"con_x","none":[]}`), &args); err != nil {
		t.Fatal(err)
	}
	got := rowsOf(args)
	rows, ok := got["contacts"].([]map[string]any)
	if !ok || len(rows) != 2 || rows[1]["email"] != "b@example.com" {
		t.Errorf("contacts: %#v", got["contacts"])
	}
	if _, ok := got["dedup_on"].([]any); !ok {
		t.Errorf("a list of strings changed: %#v", got["dedup_on"])
	}
	if got["id"] != "con_x" {
		t.Errorf("id: %#v", got["id"])
	}
	if _, ok := got["none"].([]any); !ok {
		t.Errorf("an empty list changed: %#v", got["none"])
	}
}
