package store_test

import (
	"context"
	"testing"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// TestReadStatementsCarryTheirSettings: each statement of a Read is its own implicit
// transaction, so what the tenant transaction would hold for all of them (the tenant, read
// only, custom plans once asked for) is set on each; a write is refused.
func TestReadStatementsCarryTheirSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin, _ := pgtest.Open(t)
	ws, _, err := admin.EnsureWorkspace(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live}
	setting := func(tx *store.Tx, name string) string {
		var v string
		if err := tx.Raw().QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	err = s.Read(ctx, c, func(tx *store.Tx) error {
		if got := setting(tx, "relm.workspace"); got != ws.ID {
			t.Errorf("relm.workspace %q, want %q", got, ws.ID)
		}
		if got := setting(tx, "transaction_read_only"); got != "on" {
			t.Errorf("transaction_read_only %q", got)
		}
		if got := setting(tx, "plan_cache_mode"); got != "auto" {
			t.Errorf("plan_cache_mode before asking: %q", got)
		}
		if err := store.PreferCustomPlansForTest(ctx, tx); err != nil {
			t.Fatal(err)
		}
		for range 2 { // on every later statement, not only the next
			if got := setting(tx, "plan_cache_mode"); got != "force_custom_plan" {
				t.Errorf("plan_cache_mode after preferCustomPlans: %q", got)
			}
		}
		if _, err := tx.Raw().Exec(ctx, "INSERT INTO contacts (id, workspace_id, mode, email) VALUES ('con_x', $1, 'live', 'x@example.com')", ws.ID); err == nil {
			t.Error("a write through Read succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
