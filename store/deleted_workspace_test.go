package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
)

// deletedMidway deletes the workspace gone in a transaction that holds its rows while
// write runs (which must wait for them), then commits, and returns write's error.
func deletedMidway(t *testing.T, url, gone string, write func() error) error {
	t.Helper()
	conn := testkit.Conn(t, url)
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `DELETE FROM workspaces WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- write() }()
	time.Sleep(200 * time.Millisecond) // write waits on the deleted rows
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return <-done
}

// twoWorkspaces makes the workspaces kept and gone, each with a live key.
func twoWorkspaces(t *testing.T, admin *store.Admin) (kept, gone auth.Caller) {
	t.Helper()
	for i, name := range []string{"kept", "gone"} {
		ws, _, err := admin.EnsureWorkspace(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := admin.CreateAPIKey(context.Background(), ws.ID, auth.Live)
		if err != nil {
			t.Fatal(err)
		}
		c := auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live, KeyID: key}
		if i == 0 {
			kept = c
		} else {
			gone = c
		}
	}
	return kept, gone
}

// oneLog is a batch of one request log of c.
func oneLog(c auth.Caller) store.TenantLogs {
	return store.TenantLogs{Tenant: c, Logs: []store.RequestLog{
		{RequestID: "req_1", Surface: "rest", Status: 200, KeyID: c.KeyID, CreatedAt: time.Now()}}}
}

// wantLogs fails t unless workspace ws has want request logs, counted as the owner (past
// row-level security).
func wantLogs(t *testing.T, url, ws string, want int64) {
	t.Helper()
	if n := testkit.Exec(t, url, `UPDATE request_logs SET status = status WHERE workspace_id = $1`, ws); n != want {
		t.Fatalf("workspace %s has %d request logs, want %d", ws, n, want)
	}
}

// TestRequestLogsOfADeletedWorkspace: a workspace deleted while a batch of request logs is
// being written costs only its own logs, not those of the other tenants in the batch.
func TestRequestLogsOfADeletedWorkspace(t *testing.T) {
	t.Parallel()
	s, admin, url := pgtest.Open(t)
	kept, gone := twoWorkspaces(t, admin)
	err := deletedMidway(t, url, gone.WorkspaceID, func() error {
		return s.RecordRequests(context.Background(), []store.TenantLogs{oneLog(kept), oneLog(gone)})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantLogs(t, url, kept.WorkspaceID, 1)
	wantLogs(t, url, gone.WorkspaceID, 0)
}

// TestRequestLogsGoWithTheirWorkspace: a workspace's request logs are deleted with it (by
// a trigger: request_logs has no foreign key), including those of a batch that was being
// written when the deletion came, which the deletion waits for.
func TestRequestLogsGoWithTheirWorkspace(t *testing.T) {
	t.Parallel()
	s, admin, url := pgtest.Open(t)
	kept, gone := twoWorkspaces(t, admin)
	if err := s.RecordRequests(context.Background(), []store.TenantLogs{oneLog(kept), oneLog(gone)}); err != nil {
		t.Fatal(err)
	}
	// A batch in flight: its transaction holds the workspace row when the deletion starts.
	conn := testkit.Conn(t, url)
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', 'live', true)`, gone.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `SELECT relm_lock_tenant_workspace()`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `INSERT INTO request_logs (id, workspace_id, mode, request_id, surface, status, latency_ms, key_id, created_at)
		VALUES ($1, $2, 'live', 'req_2', 'rest', 200, 1, $3, now())`, store.NewTimeID("rlog_"), gone.WorkspaceID, gone.KeyID); err != nil {
		t.Fatal(err)
	}
	deleted := make(chan int64, 1)
	go func() {
		deleted <- testkit.Exec(t, url, `DELETE FROM workspaces WHERE id = $1`, gone.WorkspaceID)
	}()
	time.Sleep(200 * time.Millisecond) // the deletion waits on the batch's lock
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := <-deleted; n != 1 {
		t.Fatalf("deleted %d workspaces", n)
	}
	wantLogs(t, url, gone.WorkspaceID, 0)
	wantLogs(t, url, kept.WorkspaceID, 1)
}

// TestMeterCountsOfADeletedWorkspace: the same for the reconciliation of rate-limit counts:
// the other tenant's counts are added, and the deleted workspace is reported gone.
func TestMeterCountsOfADeletedWorkspace(t *testing.T) {
	t.Parallel()
	s, admin, url := pgtest.Open(t)
	kept, gone := twoWorkspaces(t, admin)
	win := time.Now().UTC().Truncate(time.Minute)
	counts := func(c auth.Caller) store.MeterCounts {
		return store.MeterCounts{Tenant: c, Keys: []store.KeyCount{{KeyID: c.KeyID, WindowCount: store.WindowCount{Start: win, Add: 3}}},
			Workspace: store.WindowCount{Start: win, Add: 3}}
	}
	var totals []store.MeterTotals
	err := deletedMidway(t, url, gone.WorkspaceID, func() (err error) {
		totals, err = s.SyncMeters(context.Background(), []store.MeterCounts{counts(kept), counts(gone)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if totals[0].Gone || totals[0].Keys[kept.KeyID].Count != 3 || totals[0].Workspace.Count != 3 || !totals[1].Gone {
		t.Fatalf("totals: %+v", totals)
	}
}
