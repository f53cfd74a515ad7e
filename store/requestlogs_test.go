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

// TestRequestLogsOfADeletedWorkspace: a workspace deleted while a batch of request logs is
// being written costs only its own logs, not those of the other tenants in the batch.
func TestRequestLogsOfADeletedWorkspace(t *testing.T) {
	t.Parallel()
	s, admin, url := pgtest.Open(t)
	ctx := context.Background()
	kept, _, err := admin.EnsureWorkspace(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	gone, _, err := admin.EnsureWorkspace(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	logs := func(ws string) store.TenantLogs {
		return store.TenantLogs{Tenant: auth.Caller{WorkspaceID: ws, Mode: auth.Live}, Logs: []store.RequestLog{
			{RequestID: "req_1", Surface: "rest", Status: 200, KeyID: "key_1", CreatedAt: time.Now()}}}
	}
	// The deletion holds the workspace's row while the batch checks its foreign key, then commits.
	conn := testkit.Conn(t, url)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM workspaces WHERE id = $1`, gone.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.RecordRequests(ctx, []store.TenantLogs{logs(kept.ID), logs(gone.ID)}) }()
	time.Sleep(200 * time.Millisecond) // the batch waits on the deleted row
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := testkit.Exec(t, url, `UPDATE request_logs SET status = status WHERE workspace_id = $1`, kept.ID); n != 1 {
		t.Fatalf("%d logs of the other workspace written", n)
	}
}
