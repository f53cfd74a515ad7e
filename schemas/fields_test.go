package schemas

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestMetadataValidator(t *testing.T) {
	t.Parallel()
	v, err := CompileMetadata("metadata/contact", []CustomField{
		{Key: "note", Type: FieldText},
		{Key: "seats", Type: FieldNumber},
		{Key: "renewal", Type: FieldDate},
		{Key: "active", Type: FieldBool},
		{Key: "plan", Type: FieldSelect, Options: []string{"free", "pro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := []string{
		`{}`,
		`{"note": "hi", "seats": 3, "renewal": "2026-12-31", "active": false, "plan": "pro"}`,
		`{"seats": 2.5}`,
		`{"seats": null, "plan": null}`,               // null is no value
		`{"undefined": [1, {"x": true}], "Plan": 42}`, // keys without a definition are free-form
	}
	for _, doc := range ok {
		if bad := v.Validate("metadata", decodeJSON(t, doc)); bad != nil {
			t.Errorf("%s: %v", doc, bad)
		}
	}
	tests := []struct {
		doc, field, message string
		options             []string
	}{
		{`{"note": 3}`, "metadata.note", "must be text", nil},
		{`{"note": "` + strings.Repeat("x", MaxFieldTextChars+1) + `"}`, "metadata.note", "at most 10000 characters", nil},
		{`{"seats": "3"}`, "metadata.seats", "must be a number", nil},
		{`{"renewal": "2026-02-30"}`, "metadata.renewal", "must be a date written YYYY-MM-DD", nil},
		{`{"renewal": "31/12/2026"}`, "metadata.renewal", "must be a date", nil},
		{`{"renewal": 20261231}`, "metadata.renewal", "must be a date", nil},
		{`{"active": "true"}`, "metadata.active", "must be true or false", nil},
		{`{"plan": "Pro"}`, "metadata.plan", "must be one of: free, pro", []string{"free", "pro"}},
		{`{"plan": 1}`, "metadata.plan", "must be one of: free, pro", []string{"free", "pro"}},
	}
	for _, tt := range tests {
		bad := v.Validate("metadata", decodeJSON(t, tt.doc))
		if len(bad) != 1 || bad[0].Field != tt.field || !strings.Contains(bad[0].Message, tt.message) || !slices.Equal(bad[0].Options, tt.options) {
			t.Errorf("%.60s: got %+v", tt.doc, bad)
		}
	}
	bad := v.Validate("contacts.3.metadata", decodeJSON(t, `{"seats": "x", "plan": "gold", "other": 1}`))
	if len(bad) != 2 || bad[0].Field != "contacts.3.metadata.plan" || bad[0].Got != "gold" || bad[1].Field != "contacts.3.metadata.seats" {
		t.Errorf("two bad keys: %+v", bad)
	}
}

func TestMetadataSchemaLoadsNothing(t *testing.T) {
	t.Parallel()
	// Keys and options are data, never references: a key shaped like a $ref stays a property.
	v, err := CompileMetadata("metadata/x", []CustomField{{Key: "ref", Type: FieldSelect, Options: []string{"file:///etc/passwd", "$ref"}}})
	if err != nil {
		t.Fatal(err)
	}
	if bad := v.Validate("metadata", map[string]any{"ref": "$ref"}); bad != nil {
		t.Fatal(bad)
	}
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
