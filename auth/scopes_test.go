package auth

import "testing"

func TestScopes(t *testing.T) {
	for _, c := range []struct {
		s           Scopes
		toolset     string
		read, write bool
	}{
		{Full, "contacts", true, true},
		{"read", "contacts", true, false},
		{"write", "webhooks", true, true},
		{"contacts:read", "contacts", true, false},
		{"contacts:read", "deals", false, false},
		{"contacts:write deals:read", "contacts", true, true},
		{"contacts:write deals:read", "deals", true, false},
		{"contacts:write deals:read", "webhooks", false, false},
		{"contacts", "contacts", false, false}, // not a grant
	} {
		if got := c.s.Allows(c.toolset, false); got != c.read {
			t.Errorf("%q reads %s: %v", c.s, c.toolset, got)
		}
		if got := c.s.Allows(c.toolset, true); got != c.write {
			t.Errorf("%q writes %s: %v", c.s, c.toolset, got)
		}
	}
	sets := []string{"contacts", "deals"}
	for _, c := range []struct {
		inner, outer Scopes
		within       bool
	}{
		{"read", Full, true}, {Full, "read", false}, {"write", "read", false}, {"read", "write", true},
		{"contacts:read", "read", true}, {"read", "contacts:read", false}, {"read", "contacts:read deals:read", true},
		{"contacts:write", "contacts:read", false}, {"deals:read", "contacts:write", false},
	} {
		if got := c.inner.Within(c.outer, sets); got != c.within {
			t.Errorf("%q within %q: %v", c.inner, c.outer, got)
		}
	}
	if got := Scopes("deals:read contacts:write deals:read").Canonical(); got != "contacts:write deals:read" {
		t.Errorf("canonical %q", got)
	}
}
