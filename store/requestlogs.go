package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
)

// RequestLogRetention is how long request logs are kept: PurgeRequestLogs, run hourly by
// `relm serve`, deletes older ones.
const RequestLogRetention = 30 * 24 * time.Hour

// RequestLog is one REST request or one MCP tool call of a tenant. It never holds a body,
// a query string or a key secret.
type RequestLog struct {
	ID        string    `db:"id"`
	Mode      auth.Mode `db:"mode"`
	RequestID string    `db:"request_id"`
	Surface   string    `db:"surface"` // rest or mcp
	Method    *string   `db:"method"`  // REST only
	Path      *string   `db:"path"`    // REST route pattern, such as /v1/contacts/{id}
	Tool      *string   `db:"tool"`
	Status    int       `db:"status"`
	ErrorCode *string   `db:"error_code"`
	LatencyMS int64     `db:"latency_ms"`
	KeyID     string    `db:"key_id"`
	CreatedAt time.Time `db:"created_at"`
}

// Position is the log's place in the newest-first list.
func (l RequestLog) Position() Cursor { return Cursor{CreatedAt: l.CreatedAt, ID: l.ID} }

// RequestLogs is the request log table.
var RequestLogs = newTable[RequestLog]("request_logs", "request_log", "rlog_", filter.Spec{Fields: []filter.Field{
	idField,
	{Name: "surface", Column: "surface", Kind: filter.Enum, Values: []string{"rest", "mcp"}},
	{Name: "status", Column: "status", Kind: filter.Integer},
	{Name: "tool", Column: "tool", Kind: filter.Text},
	{Name: "path", Column: "path", Kind: filter.Text},
	{Name: "error_code", Column: "error_code", Kind: filter.Text},
	{Name: "request_id", Column: "request_id", Kind: filter.ID},
	{Name: "key_id", Column: "key_id", Kind: filter.ID},
	{Name: "created_at", Column: "created_at", Kind: filter.Timestamp},
}})

// TenantLogs are request logs of one tenant (WorkspaceID and Mode; KeyID unused).
type TenantLogs struct {
	Tenant auth.Caller
	Logs   []RequestLog
}

// RecordRequests appends request logs of any number of tenants in one round trip: a
// pipelined batch naming each tenant before its one INSERT, as one implicit transaction.
// ID and Mode are set here; CreatedAt is when the request arrived. The logs of a workspace
// deleted meanwhile are dropped: each tenant's INSERT first locks its workspace's row (FOR
// KEY SHARE, once per batch where a foreign key would lock it once per row), so a deletion
// waits for the batch and its trigger (migration 00021) then deletes what the batch wrote,
// and a batch that comes after the deletion finds no workspace and writes nothing for it.
// Request log ids begin with the time (NewTimeID), so new rows append to the indexes.
func (s *Store) RecordRequests(ctx context.Context, batches []TenantLogs) (err error) {
	defer func() { err = outage(err) }()
	b := &pgx.Batch{}
	for _, t := range batches {
		if len(t.Logs) == 0 {
			continue
		}
		if err := checkTenant(t.Tenant); err != nil {
			return err
		}
		n := len(t.Logs)
		var (
			ids, requestIDs, surfaces, keyIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			methods, paths, tools, codes      = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
			statuses                          = make([]int32, n)
			latencies                         = make([]int64, n)
			created                           = make([]time.Time, n)
		)
		for i, l := range t.Logs {
			ids[i], requestIDs[i], surfaces[i], keyIDs[i] = NewTimeID(RequestLogs.Prefix), l.RequestID, l.Surface, l.KeyID
			methods[i], paths[i], tools[i], codes[i] = l.Method, l.Path, l.Tool, l.ErrorCode
			statuses[i], latencies[i], created[i] = int32(l.Status), l.LatencyMS, l.CreatedAt
		}
		b.Queue(`SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', $2, true)`, t.Tenant.WorkspaceID, string(t.Tenant.Mode))
		b.Queue(`WITH ws AS (SELECT relm_lock_tenant_workspace() AS present)
			INSERT INTO request_logs
			(id, workspace_id, mode, request_id, surface, method, path, tool, status, error_code, latency_ms, key_id, created_at)
			SELECT l.id, $1, $2::relm_mode, l.request_id, l.surface, l.method, l.path, l.tool, l.status, l.error_code, l.latency_ms, l.key_id, l.created_at
			FROM ws, unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[], $11::bigint[], $12::text[], $13::timestamptz[])
			    AS l(id, request_id, surface, method, path, tool, status, error_code, latency_ms, key_id, created_at)
			WHERE ws.present`,
			t.Tenant.WorkspaceID, string(t.Tenant.Mode), ids, requestIDs, surfaces, methods, paths, tools, statuses, codes, latencies, keyIDs, created)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: record requests: %w", err)
	}
	return nil
}

// PurgeRequestLogs deletes every tenant's request logs older than RequestLogRetention and
// returns how many it deleted. It crosses tenants, so it runs the definer function
// relm_purge_request_logs, which holds the same 30 days.
func (s *Store) PurgeRequestLogs(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT relm_purge_request_logs()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: purge request logs: %w", err)
	}
	return n, nil
}
