package tools

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
)

func TestCheckLimits(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  map[string]any
		code  Code
		param string
	}{
		{"NUL in a field", map[string]any{"first_name": "a\x00b"}, CodeValidationFailed, "first_name"},
		{"NUL in metadata", map[string]any{"metadata": map[string]any{"note": "\x00"}}, CodeValidationFailed, "metadata.note"},
		{"NUL in a key", map[string]any{"metadata": map[string]any{"a\x00": "x"}}, CodeValidationFailed, "metadata.a\x00"},
		{"NUL in a list", map[string]any{"contacts": []any{map[string]any{}, map[string]any{"phone": "\x00"}}}, CodeValidationFailed, "contacts.1.phone"},
		{"NUL in a filter", map[string]any{"filter": map[string]any{"email": map[string]any{"in": []any{"a", "b\x00"}}}}, CodeValidationFailed, "filter.email.in.1"},
		{"not UTF-8", map[string]any{"q": "\xff"}, CodeBadRequest, "q"},
		{"long key", map[string]any{"metadata": map[string]any{strings.Repeat("k", MaxStringBytes+1): 1}}, CodeValidationFailed, "metadata." + strings.Repeat("k", MaxStringBytes+1)},
		{"number too long", map[string]any{"metadata": map[string]any{"n": json.Number("1e1000")}}, CodeValidationFailed, "metadata.n"},
		{"huge exponent", map[string]any{"limit": json.Number("1e-99999999999")}, CodeValidationFailed, "limit"},
		{"ok", map[string]any{"metadata": map[string]any{"n": json.Number("1e999"), "m": json.Number("-0.1000000000000000055511151231257827"), "s": "é😀"}}, "", ""},
	} {
		err := checkLimits(c.args, "", 0)
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.code != "" && (err == nil || err.Code != c.code || err.Param != c.param):
			t.Errorf("%s: got %+v, want %s on %q", c.name, err, c.code, c.param)
		}
	}
}

// TestKindNames checks that every kind of object a message can name has its plural in
// the one table, rather than a plural made by adding "s".
func TestKindNames(t *testing.T) {
	kinds := []string{store.Contacts.Kind, store.Companies.Kind, store.Deals.Kind, store.Activities.Kind,
		store.Associations.Kind, store.Events.Kind, store.RequestLogs.Kind, "custom_field", "api_key",
		store.WebhookEndpoints.Kind, store.WebhookDeliveries.Kind}
	for _, k := range kinds {
		n, ok := kindNames[k]
		if !ok || n.one == "" || n.many == "" {
			t.Errorf("kind %q has no names in kindNames", k)
		}
	}
	if msg := NotFound("company", "cmp_x").Message; !strings.Contains(msg, "list companies") {
		t.Errorf("NotFound: %s", msg)
	}
	if got := capitalized(nameOf("activity").many); got != "Activities" {
		t.Errorf("capitalized: %s", got)
	}
}
