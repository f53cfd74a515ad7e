package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// Refusal says whether a metered request may run, and if not, why.
type Refusal int

const (
	Allowed              Refusal = iota
	RateLimited                  // the key's fixed window is full
	WorkspaceRateLimited         // the window the workspace's keys share (per mode) is full
	QuotaExceeded                // the workspace used its monthly live quota
)

// MeterParams describe one metered request: whose it is, what it counts as, and the limits
// that apply.
type MeterParams struct {
	Caller             auth.Caller
	Requests           int           // requests it counts as toward the rate limits
	QuotaRequests      int           // requests it counts as toward the monthly quota (0: none, such as MCP initialize)
	RateLimit          int           // requests per key per window
	WorkspaceRateLimit int           // requests per workspace and mode per window, all its keys together
	RateWindow         time.Duration // window length, whole seconds
	QuotaFree          int64         // live requests per workspace per calendar month (UTC), free plan
	QuotaTeam          int64         // the same on the team plan
}

// RateWindow is a fixed window, by the database's clock.
type RateWindow struct {
	Start time.Time // windows start at multiples of their length since the Unix epoch
	Count int64     // requests counted in it
	Now   time.Time // the database's clock when it was read
}

// Meter is what counting one request found: the key's and the workspace's windows and the
// workspace's monthly usage after counting it or, when refused, as they were (a refused
// request counts nothing).
type Meter struct {
	RateWindow             // the key's
	Workspace   RateWindow // the one the workspace's keys share, in the key's mode
	Refusal     Refusal
	Plan        string    // the workspace's plan: free or team
	Quota       int64     // the plan's monthly live quota
	PeriodStart time.Time // the current quota period: this calendar month, UTC
	Used        int64     // live requests counted this period; 0 in test mode, which is not metered
}

// meterSQL counts $3 requests for key $1 of workspace $2 (mode $9) in one statement, so
// every server process on the database shares the counts. cur reads the snapshot; ww
// increments the workspace's window unless it is full, or the key's window or the live
// quota already is (per the snapshot); rw increments the key's window only if ww counted and
// it is not full; uc adds $11 to the monthly live counter ($8) only if rw counted and the
// quota allows. ON CONFLICT ... WHERE re-checks each limit on the latest row version, under
// its lock, so concurrent requests never exceed it. A window older than the statement's is
// replaced, never counted into.
const meterSQL = `
WITH cur AS (
    SELECT w.plan,
           CASE w.plan WHEN 'team' THEN $5::bigint ELSE $4::bigint END AS quota,
           date_trunc('month', now() AT TIME ZONE 'UTC')::date AS period,
           date_bin($6::int * interval '1 second', now(), timestamptz 'epoch') AS win,
           now() AS now,
           coalesce(u.count, 0) AS used,
           r.window_start AS row_start,
           r.count AS row_count,
           x.window_start AS ws_start,
           x.count AS ws_count
    FROM workspaces w
    LEFT JOIN usage_counters u ON u.workspace_id = w.id AND u.mode = 'live'
        AND u.period = date_trunc('month', now() AT TIME ZONE 'UTC')::date
    LEFT JOIN rate_windows r ON r.workspace_id = w.id AND r.key_id = $1
    LEFT JOIN workspace_rate_windows x ON x.workspace_id = w.id AND x.mode = $9::relm_mode
    WHERE w.id = $2
), ww AS (
    INSERT INTO workspace_rate_windows AS w (workspace_id, mode, window_start, count)
    SELECT $2, $9::relm_mode, cur.win, $3::bigint FROM cur
    WHERE $3::bigint <= $10::bigint AND $3::bigint <= $7::bigint
      AND NOT coalesce(cur.row_start >= cur.win AND cur.row_count + $3::bigint > $7::bigint, false)
      AND (NOT $8::boolean OR cur.used + $11::bigint <= cur.quota)
    ON CONFLICT (workspace_id, mode) DO UPDATE
    SET window_start = greatest(w.window_start, excluded.window_start),
        count = CASE WHEN excluded.window_start > w.window_start THEN excluded.count ELSE w.count + excluded.count END
    WHERE excluded.window_start > w.window_start OR w.count + excluded.count <= $10::bigint
    RETURNING w.window_start, w.count
), rw AS (
    INSERT INTO rate_windows AS w (key_id, workspace_id, mode, window_start, count)
    SELECT $1, $2, $9::relm_mode, cur.win, $3::bigint FROM cur
    WHERE EXISTS (SELECT 1 FROM ww)
    ON CONFLICT (workspace_id, key_id) DO UPDATE
    SET window_start = greatest(w.window_start, excluded.window_start),
        count = CASE WHEN excluded.window_start > w.window_start THEN excluded.count ELSE w.count + excluded.count END
    WHERE excluded.window_start > w.window_start OR w.count + excluded.count <= $7::bigint
    RETURNING w.window_start, w.count
), uc AS (
    INSERT INTO usage_counters AS u (workspace_id, mode, period, count)
    SELECT $2, 'live', cur.period, $11::bigint FROM cur
    WHERE $8::boolean AND EXISTS (SELECT 1 FROM rw)
    ON CONFLICT (workspace_id, mode, period) DO UPDATE
    SET count = u.count + excluded.count
    WHERE u.count + excluded.count <= (SELECT quota FROM cur)
    RETURNING u.count
)
SELECT cur.plan, cur.quota, cur.period, cur.win, cur.now, cur.used, cur.row_start, cur.row_count,
       cur.ws_start, cur.ws_count,
       (SELECT window_start FROM ww), (SELECT count FROM ww),
       (SELECT window_start FROM rw), (SELECT count FROM rw), (SELECT count FROM uc)
FROM cur`

// releaseSQL gives back what a request counted in the windows when a later step of
// meterSQL refused it under a lock (the key's window, or the quota, filled up after the
// snapshot): $4 requests from the workspace's window starting $2 and, when $3 is set, from
// the key's window starting $3.
const releaseSQL = `
WITH ws AS (
    UPDATE workspace_rate_windows SET count = count - $4
    WHERE workspace_id = $5 AND mode = $6::relm_mode AND window_start = $2 AND count >= $4
)
UPDATE rate_windows SET count = count - $4
WHERE $3::timestamptz IS NOT NULL AND workspace_id = $5 AND key_id = $1 AND window_start = $3 AND count >= $4`

// Meter counts a request of p.Caller against its key's rate limit, the rate ceiling its
// workspace's keys share in its mode and, in live mode, its workspace's monthly quota, or
// refuses it without counting anything. The rate limits are fixed windows: a key may make
// RateLimit requests in each window, so up to twice that can pass in one window's length
// across a boundary.
func (s *Store) Meter(ctx context.Context, p MeterParams) (Meter, error) {
	quotaApplies := p.Caller.Mode == auth.Live && p.QuotaRequests > 0
	requests := int64(p.Requests)
	var (
		m                                   Meter
		win                                 time.Time
		rowStart, wsStart, wwStart, rwStart *time.Time
		rowCount, wsCount, wwCount, rwCount *int64
		ucCount                             *int64
	)
	b := &pgx.Batch{}
	b.Queue(meterSQL, p.Caller.KeyID, p.Caller.WorkspaceID, requests, p.QuotaFree, p.QuotaTeam,
		int(p.RateWindow/time.Second), p.RateLimit, quotaApplies, p.Caller.Mode, p.WorkspaceRateLimit, int64(p.QuotaRequests))
	err := s.tenantBatch(ctx, p.Caller, b, func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(&m.Plan, &m.Quota, &m.PeriodStart, &win, &m.Now, &m.Used,
			&rowStart, &rowCount, &wsStart, &wsCount, &wwStart, &wwCount, &rwStart, &rwCount, &ucCount)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("store: meter: no workspace %s", p.Caller.WorkspaceID)
	}
	if err != nil {
		return m, fmt.Errorf("store: meter: %w", err)
	}
	if wwCount != nil && (rwCount == nil || quotaApplies && ucCount == nil) {
		// A later limit filled up after the snapshot: give back what was counted.
		release := &pgx.Batch{}
		release.Queue(releaseSQL, p.Caller.KeyID, *wwStart, rwStart, requests, p.Caller.WorkspaceID, p.Caller.Mode)
		err = s.tenantBatch(ctx, p.Caller, release, func(br pgx.BatchResults) error {
			_, err := br.Exec()
			return err
		})
		if err != nil {
			return m, fmt.Errorf("store: meter: release: %w", err)
		}
	}
	m.PeriodStart = m.PeriodStart.UTC()
	m.Start, m.Count = current(win, rowStart, rowCount)
	m.Workspace.Start, m.Workspace.Count = current(win, wsStart, wsCount)
	m.Workspace.Now = m.Now
	switch {
	case wwCount == nil: // refused before counting anything
		switch {
		case m.Count+requests > int64(p.RateLimit):
			m.Refusal = RateLimited
		case quotaApplies && m.Used+int64(p.QuotaRequests) > m.Quota:
			m.Refusal = QuotaExceeded
		default:
			m.Refusal = WorkspaceRateLimited
		}
	case rwCount == nil: // the key's window filled up after the snapshot; the workspace's count was given back
		m.Refusal = RateLimited
	case quotaApplies && ucCount == nil: // the quota filled up after the snapshot; the counts were given back
		m.Start, m.Count = *rwStart, *rwCount-requests
		m.Refusal = QuotaExceeded
	default:
		m.Start, m.Count = *rwStart, *rwCount
		m.Workspace.Start, m.Workspace.Count = *wwStart, *wwCount
		if quotaApplies {
			m.Used = *ucCount
		}
	}
	if p.Caller.Mode != auth.Live {
		m.Used = 0
	}
	return m, nil
}

// PeekRateWindow reads the current window of the caller's key without counting anything.
func (s *Store) PeekRateWindow(ctx context.Context, c auth.Caller, window time.Duration) (RateWindow, error) {
	var (
		w        RateWindow
		win      time.Time
		rowStart *time.Time
		rowCount *int64
	)
	b := &pgx.Batch{}
	b.Queue(`
		SELECT date_bin($2::int * interval '1 second', now(), timestamptz 'epoch'), now(), r.window_start, r.count
		FROM (SELECT 1) one LEFT JOIN rate_windows r ON r.workspace_id = $3 AND r.key_id = $1`,
		c.KeyID, int(window/time.Second), c.WorkspaceID)
	err := s.tenantBatch(ctx, c, b, func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(&win, &w.Now, &rowStart, &rowCount)
	})
	if err != nil {
		return w, fmt.Errorf("store: read rate window: %w", err)
	}
	w.Start, w.Count = current(win, rowStart, rowCount)
	return w, nil
}

// current is the key's window given the statement's window win and the key's stored row.
func current(win time.Time, rowStart *time.Time, rowCount *int64) (time.Time, int64) {
	if rowStart != nil && !rowStart.Before(win) {
		return *rowStart, *rowCount
	}
	return win, 0
}
