package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
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
	// A failed statement whose error fn ignores: the commit rolls back, and says so.
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		_, _ = tx.Raw().Exec(ctx, `INSERT INTO contacts (id, workspace_id, mode, email) VALUES ($1, $2, $3, $4)`,
			store.NewID("con_"), a.WorkspaceID, a.Mode, "a-live@example.com")
		return nil
	})
	if !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("committing after a failed statement: %v, want pgx.ErrTxCommitRollback", err)
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

// TestEventsWaitForCommit: when the tenant has no enabled webhook endpoint or automation
// as its transaction begins, the events' statement waits for the transaction's next
// statement or its COMMIT, and the transaction reads and writes as if it had gone at once:
// a later statement (pipelined or sent alone) sees the events, a commit keeps them, a
// rollback drops them (of a savepoint too), and a failing one (a taken event id) fails the commit and writes
// nothing, leaving the connection fit for the next transaction. A transaction that writes
// an endpoint, and every transaction of a tenant that has one, records its events at once,
// with their deliveries; another tenant's events still wait.
func TestEventsWaitForCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, owner, callers := tenants(t)
	a, b := callers[0], callers[2]
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := owner.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// record creates a contact and records its event, and reports how many statements then
	// wait.
	record := func(tx *store.Tx, eventID, email string) (waiting int, err error) {
		if _, err := store.Insert(ctx, tx, store.Contacts, store.Values{"email": email}); err != nil {
			return 0, err
		}
		err = tx.RecordEvents(ctx, store.NewEvent{ID: eventID, Type: "contact.created", Data: []byte(`{}`)})
		return store.DeferredForTest(tx), err
	}

	committed := store.NewID("evt_")
	err := s.InTx(ctx, a, func(tx *store.Tx) error {
		n, err := record(tx, committed, "waits@example.com")
		if n != 1 {
			t.Errorf("%d statements wait after the events, want 1", n)
		}
		return err
	})
	if err != nil || count(`SELECT count(*) FROM events WHERE id = $1`, committed) != 1 {
		t.Fatalf("the events that went with COMMIT: %v", err)
	}

	for _, alone := range []bool{false, true} {
		id := store.NewID("evt_")
		err = s.InTx(ctx, a, func(tx *store.Tx) error {
			if _, err := record(tx, id, store.NewID("con_")+"@example.com"); err != nil {
				return err
			}
			if alone { // an Exec without arguments goes on the simple protocol, after them
				if _, err := tx.Raw().Exec(ctx, `SET LOCAL work_mem = '8MB'`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.Raw().QueryRow(ctx, `SELECT count(*) FROM events WHERE id = $1`, id).Scan(&n); err != nil || n != 1 {
				t.Errorf("the next statement (alone: %v) saw %d of the events (%v)", alone, n, err)
			}
			if n := store.DeferredForTest(tx); n != 0 {
				t.Errorf("%d statements still wait", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	rolledBack := store.NewID("evt_")
	fail := errors.New("fail")
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		if _, err := record(tx, rolledBack, "rolled-back@example.com"); err != nil {
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) || count(`SELECT count(*) FROM events WHERE id = $1`, rolledBack) != 0 {
		t.Fatalf("a rolled back transaction: %v, or its events stayed", err)
	}

	kept, dropped := store.NewID("evt_"), store.NewID("evt_")
	err = s.InTx(ctx, a, func(tx *store.Tx) error { // savepoints: nested InTx
		err := s.InTx(store.WithTx(ctx, tx), a, func(in *store.Tx) error {
			_, err := record(in, kept, "released@example.com")
			return err
		})
		if err != nil {
			return err
		}
		err = s.InTx(store.WithTx(ctx, tx), a, func(in *store.Tx) error {
			if _, err := record(in, dropped, "rolled-back-savepoint@example.com"); err != nil {
				return err
			}
			return fail
		})
		if !errors.Is(err, fail) {
			t.Errorf("a failing savepoint: %v", err)
		}
		return nil
	})
	if err != nil || count(`SELECT count(*) FROM events WHERE id = ANY ($1)`, []string{kept, dropped}) != 1 ||
		count(`SELECT count(*) FROM events WHERE id = $1`, kept) != 1 {
		t.Fatalf("savepoints: %v; want the released one's events only", err)
	}

	for range 20 { // more than the pool's connections: a failed one must not be reused broken
		err = s.InTx(ctx, a, func(tx *store.Tx) error {
			_, err := record(tx, committed, "taken-event@example.com")
			return err
		})
		if err == nil {
			t.Fatal("committed events whose id was taken")
		}
	}
	if n := count(`SELECT count(*) FROM contacts WHERE email = 'taken-event@example.com'`); n != 0 {
		t.Fatalf("%d contacts of failed commits were written", n)
	}

	delivered := func(eventID string) int {
		return count(`SELECT count(*) FROM webhook_deliveries WHERE event_id = $1`, eventID)
	}
	first := store.NewID("evt_")
	err = s.InTx(ctx, a, func(tx *store.Tx) error {
		_, err := store.InsertWebhookEndpoint(ctx, tx, store.Values{"url": "https://example.com/hook",
			"events": []string{"contact.created"}, "secret": "sealed", "enabled": true})
		if err != nil {
			return err
		}
		n, err := record(tx, first, "with-endpoint@example.com")
		if n != 0 {
			t.Errorf("%d statements wait after writing an endpoint", n)
		}
		return err
	})
	if err != nil || delivered(first) != 1 {
		t.Fatalf("events after the transaction's own endpoint: %v, %d deliveries", err, delivered(first))
	}
	for _, c := range []auth.Caller{a, b} {
		waiting, deliveries := 1, 0 // b has no endpoint
		if c == a {
			waiting, deliveries = 0, 1
		}
		id := store.NewID("evt_")
		err = s.InTx(ctx, c, func(tx *store.Tx) error {
			n, err := record(tx, id, store.NewID("con_")+"@example.com")
			if n != waiting {
				t.Errorf("workspace %s: %d statements wait, want %d", c.WorkspaceID, n, waiting)
			}
			return err
		})
		if err != nil || delivered(id) != deliveries {
			t.Fatalf("workspace %s: %v, %d deliveries, want %d", c.WorkspaceID, err, delivered(id), deliveries)
		}
	}
}
