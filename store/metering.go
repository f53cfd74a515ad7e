package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
)

// RateWindow is a fixed window: when it started and the requests counted in it.
type RateWindow struct {
	Start time.Time // windows start at multiples of their length since the Unix epoch
	Count int64
}

// MeterCounts are what one server process adds to the shared counters of one tenant (a
// workspace in one mode) since it last reconciled: requests per key and per workspace in
// their rate windows and, in live mode, requests per quota period. A zero addition only
// reads the shared count back.
type MeterCounts struct {
	Tenant    auth.Caller // WorkspaceID and Mode; KeyID is unused
	Keys      []KeyCount
	Workspace WindowCount
	Periods   []PeriodCount // live mode only: calendar months (UTC)
}

// KeyCount is an addition to an API key's rate window.
type KeyCount struct {
	KeyID string
	WindowCount
}

// WindowCount is an addition to the rate window starting at Start.
type WindowCount struct {
	Start time.Time
	Add   int64
}

// PeriodCount is an addition to the live requests of the quota period starting at Period.
type PeriodCount struct {
	Period time.Time // the first day of a month, UTC
	Add    int64
}

// MeterTotals are the shared counts after an addition: every process's requests together.
// A window is the one stored, which may be older than the one asked about (nothing counted
// in that one yet) or missing (zero Start).
type MeterTotals struct {
	Keys      map[string]RateWindow
	Workspace RateWindow
	Periods   map[time.Time]int64 // by period; missing: none counted
	Plan      string              // the workspace's plan: free or team
	Gone      bool                // the workspace has been deleted
}

// syncMetersSQL adds one tenant's counts ($1 workspace, $2 mode) to the shared rows and
// reads every asked-about row back (and the workspace's plan): keys $3 with windows $4 and additions $5, the
// workspace's window $6 with addition $7, quota periods $8 with additions $9. A window
// older than the addition's is replaced, a newer one is left alone (the addition was for a
// window that has ended). Rows with nothing to add are only read, so reconciling an idle
// tenant writes nothing.
const syncMetersSQL = `
WITH ws AS (
    SELECT id, plan FROM workspaces WHERE id = $1::text
), k AS (
    INSERT INTO rate_windows AS w (key_id, workspace_id, mode, window_start, count)
    SELECT a.key_id, $1, $2::relm_mode, a.win, a.n
    FROM unnest($3::text[], $4::timestamptz[], $5::bigint[]) AS a(key_id, win, n)
    JOIN api_keys ak ON ak.workspace_id = $1 AND ak.id = a.key_id
    WHERE a.n > 0
    ON CONFLICT (workspace_id, key_id) DO UPDATE
    SET window_start = greatest(w.window_start, excluded.window_start),
        count = CASE WHEN excluded.window_start > w.window_start THEN excluded.count
                     WHEN excluded.window_start = w.window_start THEN w.count + excluded.count
                     ELSE w.count END
    RETURNING w.key_id, w.window_start, w.count
), x AS (
    INSERT INTO workspace_rate_windows AS w (workspace_id, mode, window_start, count)
    SELECT ws.id, $2::relm_mode, $6::timestamptz, $7::bigint FROM ws WHERE $7::bigint > 0
    ON CONFLICT (workspace_id, mode) DO UPDATE
    SET window_start = greatest(w.window_start, excluded.window_start),
        count = CASE WHEN excluded.window_start > w.window_start THEN excluded.count
                     WHEN excluded.window_start = w.window_start THEN w.count + excluded.count
                     ELSE w.count END
    RETURNING w.window_start, w.count
), u AS (
    INSERT INTO usage_counters AS c (workspace_id, mode, period, count)
    SELECT ws.id, 'live', p.period, p.n FROM ws, unnest($8::date[], $9::bigint[]) AS p(period, n) WHERE p.n > 0
    ON CONFLICT (workspace_id, mode, period) DO UPDATE SET count = c.count + excluded.count
    RETURNING c.period, c.count
)
SELECT 'key', key_id, window_start, count FROM k
UNION ALL
SELECT 'key', r.key_id, r.window_start, r.count FROM rate_windows r
WHERE r.workspace_id = $1 AND r.key_id = ANY($3::text[]) AND r.key_id NOT IN (SELECT key_id FROM k)
UNION ALL
SELECT 'workspace', NULL, window_start, count FROM x
UNION ALL
SELECT 'workspace', NULL, r.window_start, r.count FROM workspace_rate_windows r
WHERE r.workspace_id = $1 AND r.mode = $2::relm_mode AND NOT EXISTS (SELECT 1 FROM x)
UNION ALL
SELECT 'period', NULL, period::timestamp AT TIME ZONE 'UTC', count FROM u
UNION ALL
SELECT 'period', NULL, c.period::timestamp AT TIME ZONE 'UTC', c.count FROM usage_counters c
WHERE c.workspace_id = $1 AND c.mode = 'live' AND c.period = ANY($8::date[]) AND c.period NOT IN (SELECT period FROM u)
UNION ALL
SELECT 'plan', plan, NULL, NULL FROM ws`

// SyncMeters adds what this process counted for each tenant to the rows every process
// shares, and returns the totals, in the order of counts. It is one round trip for all
// tenants: a pipelined batch naming each tenant before its statement, as one implicit
// transaction. A tenant whose workspace no longer exists comes back Gone, its counts dropped.
func (s *Store) SyncMeters(ctx context.Context, counts []MeterCounts) (totals []MeterTotals, err error) {
	if len(counts) == 0 {
		return nil, nil
	}
	defer func() { err = outage(err) }()
	totals, err = s.syncMeters(ctx, counts)
	if !foreignKeyViolation(err) {
		return totals, err
	}
	// A workspace deleted while the batch ran (a sandbox deleted after its last request)
	// fails the whole batch on its foreign keys: each tenant again on its own, and the one
	// whose workspace is gone reported Gone.
	totals = make([]MeterTotals, len(counts))
	for i, c := range counts {
		t, err := s.syncMeters(ctx, []MeterCounts{c})
		switch {
		case foreignKeyViolation(err):
			totals[i] = MeterTotals{Gone: true}
		case err != nil:
			return nil, err
		default:
			totals[i] = t[0]
		}
	}
	return totals, nil
}

func (s *Store) syncMeters(ctx context.Context, counts []MeterCounts) (totals []MeterTotals, err error) {
	b := &pgx.Batch{}
	for _, c := range counts {
		if err := checkTenant(c.Tenant); err != nil {
			return nil, err
		}
		keys, starts, adds := make([]string, len(c.Keys)), make([]time.Time, len(c.Keys)), make([]int64, len(c.Keys))
		for i, k := range c.Keys {
			keys[i], starts[i], adds[i] = k.KeyID, k.Start, k.Add
		}
		periods, periodAdds := make([]time.Time, len(c.Periods)), make([]int64, len(c.Periods))
		for i, p := range c.Periods {
			periods[i], periodAdds[i] = p.Period, p.Add
		}
		b.Queue(`SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', $2, true)`, c.Tenant.WorkspaceID, string(c.Tenant.Mode))
		b.Queue(syncMetersSQL, c.Tenant.WorkspaceID, string(c.Tenant.Mode), keys, starts, adds,
			c.Workspace.Start, c.Workspace.Add, periods, periodAdds)
	}
	br := s.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: sync meters: %w", cerr)
		}
	}()
	totals = make([]MeterTotals, len(counts))
	for i := range counts {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("store: sync meters: %w", err)
		}
		t := MeterTotals{Keys: map[string]RateWindow{}, Periods: map[time.Time]int64{}}
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("store: sync meters: %w", err)
		}
		for rows.Next() {
			var (
				kind  string
				name  *string
				start *time.Time
				count *int64
			)
			if err := rows.Scan(&kind, &name, &start, &count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: sync meters: %w", err)
			}
			switch kind {
			case "key":
				t.Keys[*name] = RateWindow{Start: *start, Count: *count}
			case "workspace":
				t.Workspace = RateWindow{Start: *start, Count: *count}
			case "period":
				t.Periods[start.UTC()] = *count
			case "plan":
				t.Plan = *name
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: sync meters: %w", err)
		}
		t.Gone = t.Plan == ""
		totals[i] = t
	}
	return totals, nil
}

// PeekRateWindow reads the shared row of the caller's key as last reconciled, without
// counting anything.
func (s *Store) PeekRateWindow(ctx context.Context, c auth.Caller) (RateWindow, error) {
	var w RateWindow
	b := &pgx.Batch{}
	b.Queue(`SELECT window_start, count FROM rate_windows WHERE workspace_id = $1 AND key_id = $2`, c.WorkspaceID, c.KeyID)
	err := s.tenantBatch(ctx, c, b, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&w.Start, &w.Count)
		if err == pgx.ErrNoRows {
			return nil
		}
		return err
	})
	if err != nil {
		return w, fmt.Errorf("store: read rate window: %w", err)
	}
	return w, nil
}

// foreignKeyViolation reports whether err is PostgreSQL's foreign_key_violation (23503).
func foreignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}
