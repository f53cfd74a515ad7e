package automations

import (
	"encoding/json"
	"testing"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/tools"
)

func TestLookupAndMatches(t *testing.T) {
	data := map[string]any{
		"object":              map[string]any{"id": "deal_x", "stage": "won", "pipeline": "sales", "value_cents": json.Number("1200"), "metadata": map[string]any{"source": "Web form", "tags": []any{"vip", "eu"}}},
		"previous_attributes": map[string]any{"stage": "proposal"},
		"new_stage":           "won",
		"old_stage":           "proposal",
	}
	for _, c := range []struct {
		cond tools.Condition
		want bool
	}{
		{tools.Condition{Field: "stage", Op: "eq", Value: schemas.JSONValue{V: "won"}}, true},
		{tools.Condition{Field: "new_stage", Op: "eq", Value: schemas.JSONValue{V: "won"}}, true},
		{tools.Condition{Field: "previous_attributes.stage", Op: "eq", Value: schemas.JSONValue{V: "proposal"}}, true},
		{tools.Condition{Field: "value_cents", Op: "eq", Value: schemas.JSONValue{V: json.Number("1200.0")}}, true},
		{tools.Condition{Field: "value_cents", Op: "eq", Value: schemas.JSONValue{V: "1200"}}, false},
		{tools.Condition{Field: "stage", Op: "neq", Value: schemas.JSONValue{V: "lost"}}, true},
		{tools.Condition{Field: "missing", Op: "neq", Value: schemas.JSONValue{V: "x"}}, true},
		{tools.Condition{Field: "metadata.source", Op: "contains", Value: schemas.JSONValue{V: "web"}}, true},
		{tools.Condition{Field: "metadata.tags", Op: "contains", Value: schemas.JSONValue{V: "vip"}}, true},
		{tools.Condition{Field: "metadata.tags", Op: "contains", Value: schemas.JSONValue{V: "us"}}, false},
		{tools.Condition{Field: "metadata.source", Op: "exists"}, true},
		{tools.Condition{Field: "metadata.nope", Op: "exists", Value: schemas.JSONValue{V: false}}, true},
		{tools.Condition{Field: "metadata.nope", Op: "exists"}, false},
		{tools.Condition{Field: "stage", Op: "in", Value: schemas.JSONValue{V: []any{"won", "lost"}}}, true},
		{tools.Condition{Field: "stage", Op: "in", Value: schemas.JSONValue{V: []any{"lead"}}}, false},
		{tools.Condition{Field: "metadata.source.deeper", Op: "exists"}, false},
	} {
		if got, why := Matches([]tools.Condition{c.cond}, data); got != c.want {
			t.Errorf("%+v: %v (%s), want %v", c.cond, got, why, c.want)
		}
	}
}

func TestContext(t *testing.T) {
	act := map[string]any{"object": map[string]any{"id": "act_1", "contact_id": "con_1", "deal_id": "deal_1", "company_id": nil}}
	refs := Context("activity.created", act)
	if refs["self"] != "activity" || refs["activity"] != "act_1" || refs["contact"] != "con_1" || refs["deal"] != "deal_1" || refs["company"] != "" {
		t.Fatalf("activity context: %v", refs)
	}
	if refs := Context("contact.deleted", map[string]any{"object": map[string]any{"id": "con_1"}}); refs["contact"] != "" || refs["self"] != "" {
		t.Fatalf("a deleted record stays out of the context: %v", refs)
	}
}
