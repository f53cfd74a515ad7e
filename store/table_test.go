package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
)

// TestWritesRefuseUnknownColumns: a map key that is not a column of the table is refused
// before any SQL is sent, never spliced into it, and nothing is written.
func TestWritesRefuseUnknownColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, callers := tenants(t)
	c := callers[0]
	const bad = "email = 'x', metadata"
	err := s.InTx(ctx, c, func(tx *store.Tx) error {
		_, err := store.Insert(ctx, tx, store.Contacts, store.Values{"first_name": "Ada", bad: "y"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), `has no column "email = 'x', metadata"`) {
		t.Fatalf("insert: got %v, want an unknown-column error", err)
	}
	var id string
	err = s.InTx(ctx, c, func(tx *store.Tx) error {
		p, err := store.List(ctx, tx, store.Contacts, store.ListParams{Limit: 10})
		if err != nil {
			return err
		}
		if len(p.Items) != 1 {
			t.Errorf("contacts after refused insert: %d, want 1", len(p.Items))
		}
		id = p.Items[0].ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, c, func(tx *store.Tx) error {
		_, _, err := store.Update(ctx, tx, store.Contacts, id, func(store.Contact) (store.Changes, error) {
			return store.Changes{Set: map[string]any{"last_name": "Lovelace", bad: "y"}}, nil
		})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "has no column") {
		t.Fatalf("update: got %v, want an unknown-column error", err)
	}
	err = s.InTx(ctx, c, func(tx *store.Tx) error {
		_, err := store.Unlink(ctx, tx, store.Deals, bad, id)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "has no column") {
		t.Fatalf("unlink: got %v, want an unknown-column error", err)
	}
	err = s.InTx(ctx, c, func(tx *store.Tx) error {
		got, err := store.Get(ctx, tx, store.Contacts, id)
		if err == nil && got.LastName != nil {
			t.Errorf("last_name after refused update: %q, want unset", *got.LastName)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
