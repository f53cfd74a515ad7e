package store

import (
	"context"
	"fmt"
	"strings"
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

// RecordRequests appends logs for tenant t in one statement, in a transaction of its own: a
// request's log is written after its response, whether its work committed or not. ID and
// Mode are set here; CreatedAt is when the request arrived.
func (s *Store) RecordRequests(ctx context.Context, t auth.Caller, logs ...RequestLog) error {
	if len(logs) == 0 {
		return nil
	}
	q := query{args: []any{t.WorkspaceID, t.Mode}}
	rows := make([]string, len(logs))
	for i, l := range logs {
		rows[i] = "(" + strings.Join([]string{q.arg(NewID("rlog_")), "$1", "$2", q.arg(l.RequestID), q.arg(l.Surface),
			q.arg(l.Method), q.arg(l.Path), q.arg(l.Tool), q.arg(l.Status), q.arg(l.ErrorCode), q.arg(l.LatencyMS), q.arg(l.KeyID), q.arg(l.CreatedAt)}, ", ") + ")"
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO request_logs
		(id, workspace_id, mode, request_id, surface, method, path, tool, status, error_code, latency_ms, key_id, created_at)
		VALUES `+strings.Join(rows, ", "), q.args...)
	err := s.tenantBatch(ctx, t, b, func(br pgx.BatchResults) error {
		_, err := br.Exec()
		return err
	})
	if err != nil {
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
