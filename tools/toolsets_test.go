package tools

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
)

// TestSelectionOfRemembers: a query read again gives the same selection or the same
// refusal, and no more than maxRememberedSelections distinct queries are kept.
func TestSelectionOfRemembers(t *testing.T) {
	reg, err := NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct{ toolsets, readOnly string }{{"", ""}, {"all", ""}, {"core,webhooks", "true"}, {"contacts, deals", "false"}} {
		first, ferr := reg.SelectionOf(q.toolsets, q.readOnly)
		again, aerr := reg.SelectionOf(q.toolsets, q.readOnly)
		fresh, _ := reg.selectionOf(q.toolsets, q.readOnly)
		if ferr != nil || aerr != nil || !reflect.DeepEqual(first, again) || !reflect.DeepEqual(first, fresh) {
			t.Errorf("%q: %+v then %+v (%v, %v), unremembered %+v", q, first, again, ferr, aerr, fresh)
		}
	}
	for range 2 {
		if _, err := reg.SelectionOf("contcts", ""); err == nil || err.Suggestion != "contacts" {
			t.Errorf("an unknown toolset: %+v", err)
		}
		if _, err := reg.SelectionOf("", "maybe"); err == nil || err.Param != "read_only" {
			t.Errorf("a bad read_only: %+v", err)
		}
	}
	for i := range 3 * maxRememberedSelections {
		_, _ = reg.SelectionOf(fmt.Sprintf("nope%d", i), "")
	}
	n := 0
	reg.selections.Range(func(any, any) bool { n++; return true })
	if n > maxRememberedSelections {
		t.Errorf("%d selections remembered, at most %d", n, maxRememberedSelections)
	}
	if _, err := reg.SelectionOf(fmt.Sprintf("nope%d", 3*maxRememberedSelections-1), ""); err == nil {
		t.Error("a query past the bound is still read")
	}
}
