package server_test

import "testing"

// TestSuggestions: errors an agent can fix list the valid options and suggest the closest.
func TestSuggestions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Sug"})
	cases := []struct {
		r                 resp
		code, param, want string
	}{
		{e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "x", "stage": "qualifed"}), "validation_failed", "stage", "qualified"},
		{e.call("GET", "/v1/deals?filter[valu_cents][gte]=1", e.Live, nil), "invalid_filter", "filter[valu_cents]", "value_cents"},
		{e.call("GET", "/v1/deals?filter[value_cents][gt3]=1", e.Live, nil), "invalid_filter", "filter[value_cents][gt3]", "gt"},
		{e.call("POST", "/v1/activities", e.Live, map[string]any{"type": "nte", "contact_id": contact}), "validation_failed", "type", "note"},
	}
	for _, c := range cases {
		eb := errOf(c.r)
		if eb["code"] != c.code || eb["param"] != c.param || eb["suggestion"] != c.want || len(strs(eb["valid_options"])) == 0 {
			t.Errorf("want %s on %s suggesting %s, got %s", c.code, c.param, c.want, c.r.Raw)
		}
	}
	// Nothing close: no suggestion, but still the options.
	eb := errOf(e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "x", "stage": "zzzzzzzz"}))
	if _, has := eb["suggestion"]; has || len(strs(eb["valid_options"])) != 5 {
		t.Fatalf("far-off value: %v", eb)
	}
}
