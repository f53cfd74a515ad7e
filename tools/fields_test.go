package tools_test

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"

	"github.com/relmcrm/relm/tools"
)

// selectingTools must take fields: the get and list tools of the record kinds.
var selectingTools = []string{"get_contact", "list_contacts", "get_company", "list_companies",
	"get_deal", "list_deals", "get_activity", "list_activities"}

// TestFieldsRules checks every tool that takes fields: it names exactly the properties of
// its record (the result, or each item of a list), id and object among them, and its
// record requires only id and object, so a selected result matches its output schema.
func TestFieldsRules(t *testing.T) {
	reg, err := tools.NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), tools.All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range reg.Entries() {
		inProps, _ := e.InputSchema["properties"].(map[string]any)
		fields, ok := inProps[tools.FieldsArg].(map[string]any)
		if !ok {
			if slices.Contains(selectingTools, e.Name) {
				t.Errorf("%s: takes no %s", e.Name, tools.FieldsArg)
			}
			continue
		}
		record := e.OutputSchema
		if props, _ := record["properties"].(map[string]any); props["has_more"] != nil {
			record = props["data"].(map[string]any)["items"].(map[string]any)
		}
		recProps, _ := record["properties"].(map[string]any)
		items, _ := fields["items"].(map[string]any)
		var enum []string
		for _, v := range items["enum"].([]any) {
			enum = append(enum, v.(string))
		}
		if want := slices.Sorted(maps.Keys(recProps)); !slices.Equal(slices.Sorted(slices.Values(enum)), want) {
			t.Errorf("%s: fields names %v; its record has %v", e.Name, enum, want)
		}
		if req := fmt.Sprint(record["required"]); req != "[id object]" {
			t.Errorf("%s: its record requires %s; a selection only guarantees [id object]", e.Name, req)
		}
		if fields["type"] != "array" || fields["uniqueItems"] != true {
			t.Errorf("%s: fields is an array of unique names: %v", e.Name, fields)
		}
	}
}
