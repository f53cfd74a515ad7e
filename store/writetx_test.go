package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relmcrm/relm/store"
)

// TestInTxBeginsWithTheFirstStatement: BEGIN and the tenant settings go out with a
// transaction's first statement, whatever it is, and the transaction behaves as one begun
// on its own: the settings scope the first statement, a failing first statement fails the
// transaction (nothing is written) and leaves the connection fit for the next one, and a
// transaction that sends nothing commits.
func TestInTxBeginsWithTheFirstStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	a := callers[0]
	var ws string
	err := s.InTx(ctx, a, func(tx *store.Tx) error {
		return tx.Raw().QueryRow(ctx, `SELECT current_setting('relm.workspace')`).Scan(&ws)
	})
	if err != nil || ws != a.WorkspaceID {
		t.Fatalf("first statement saw workspace %q (%v), want %q", ws, err, a.WorkspaceID)
	}
	// A multi-statement Exec without arguments (the simple protocol) as the first statement.
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		_, err := tx.Raw().Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL work_mem = '8MB'`)
		return err
	})
	if err != nil {
		t.Fatalf("multi-statement first Exec: %v", err)
	}
	for range 20 { // more than the pool's connections: a failed one must not be reused broken
		err = s.InTx(ctx, a, func(tx *store.Tx) error {
			if _, err := tx.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
				store.NewID("con_"), a.WorkspaceID, a.Mode, "a-live@example.com"); err == nil {
				t.Error("a duplicate email was inserted")
			}
			_, err := tx.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
				store.NewID("con_"), a.WorkspaceID, a.Mode, "after-failure@example.com")
			return err
		})
		if err == nil {
			t.Fatal("a statement after a failed one succeeded")
		}
	}
	var n int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE email = 'after-failure@example.com'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("written after a failure: %d (%v)", n, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		_, err := tx.Raw().Exec(cancelled, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
			store.NewID("con_"), a.WorkspaceID, a.Mode, "after-failure@example.com")
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a first statement under a cancelled context: %v", err)
	}
	if err := s.InTx(ctx, a, func(*store.Tx) error { return nil }); err != nil {
		t.Fatalf("empty transaction: %v", err)
	}
	fail := errors.New("fail")
	if err := s.InTx(ctx, a, func(*store.Tx) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("empty failing transaction: %v", err)
	}
	// A savepoint as the first statement (a nested InTx).
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		return s.InTx(store.WithTx(ctx, tx), a, func(inner *store.Tx) error {
			_, err := inner.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
				store.NewID("con_"), a.WorkspaceID, a.Mode, "nested@example.com")
			return err
		})
	})
	if err != nil {
		t.Fatalf("savepoint first: %v", err)
	}
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE email = 'nested@example.com'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("nested insert: %d (%v)", n, err)
	}
}
