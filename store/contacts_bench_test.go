package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// BenchmarkContactWithRecent reads a contact with metadata, ten activities and two
// associations the way GET /v1/contacts/{id} does: one Read, one ContactWithRecent.
func BenchmarkContactWithRecent(b *testing.B) {
	ctx := context.Background()
	s, admin, _ := pgtest.Open(b)
	ws, _, err := admin.EnsureWorkspace(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	c := auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live, KeyID: "key_bench"}
	meta := map[string]any{"tier": "gold", "score": 42, "tags": []any{"a", "b"}, "address": map[string]any{"city": "Oslo", "zip": "0150"}}
	var id string
	err = s.InTx(ctx, c, func(tx *store.Tx) error {
		con, err := store.Insert(ctx, tx, store.Contacts, store.Values{"email": "ada@example.com", "first_name": "Ada", "metadata": meta})
		if err != nil {
			return err
		}
		id = con.ID
		for i := range 10 {
			if _, err := store.Insert(ctx, tx, store.Activities, store.Values{"type": "note", "subject": "call back",
				"body": "talked about the renewal", "contact_id": id, "occurred_at": time.Now().Add(-time.Duration(i) * time.Hour),
				"metadata": map[string]any{"n": i}}); err != nil {
				return err
			}
		}
		for range 2 {
			cmp, err := store.Insert(ctx, tx, store.Companies, store.Values{"name": "Acme", "metadata": map[string]any{}})
			if err != nil {
				return err
			}
			if _, err := store.Insert(ctx, tx, store.Associations, store.Values{"from_type": "contact", "from_id": id,
				"to_type": "company", "to_id": cmp.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	read := func() {
		err := s.Read(ctx, c, func(tx *store.Tx) error {
			_, acts, edges, err := store.ContactWithRecent(ctx, tx, id, 20)
			if err == nil && (len(acts) != 10 || len(edges) != 2) {
				b.Fatalf("got %d activities, %d associations", len(acts), len(edges))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	read() // prepare the statements on the one connection the loop uses
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		read()
	}
}
