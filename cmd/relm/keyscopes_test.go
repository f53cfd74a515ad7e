package main

import (
	"context"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestKeysCreateScopes: relm keys create --scopes makes a key limited to them, and refuses
// a scope that is not one.
func TestKeysCreateScopes(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	var out strings.Builder
	if err := run(t.Context(), []string{"keys", "create", "--workspace", "acme", "--mode", "test", "--create",
		"--scopes", "contacts:write,deals:read", "--database-url", dbURL}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Authenticate(t.Context(), strings.TrimSpace(out.String()))
	if err != nil || c.Scopes != "contacts:write deals:read" {
		t.Fatalf("caller %+v (%v)", c, err)
	}
	for _, bad := range []string{"contacts:admin", "people:read"} {
		err := run(t.Context(), []string{"keys", "create", "--workspace", "acme", "--mode", "test", "--scopes", bad, "--database-url", dbURL}, &out, quietLog())
		if err == nil || !strings.Contains(err.Error(), "--scopes") {
			t.Errorf("--scopes %s: %v", bad, err)
		}
	}
}
