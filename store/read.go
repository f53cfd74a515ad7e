package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
)

// Read runs fn's statements for tenant t each in one round trip: every statement is sent
// pipelined behind the settings that name the tenant (and make it read-only), as one
// implicit transaction, with no BEGIN or COMMIT. A point read or a list is then one round
// trip instead of three. fn must only read, and its statements do not share a snapshot:
// use it where each statement stands alone (InTx is for everything else). Under a context
// from WithTx for the same caller, fn runs in that transaction instead.
func (s *Store) Read(ctx context.Context, t auth.Caller, fn func(*Tx) error) error {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok && outer.t == t {
		return s.InTx(ctx, t, fn)
	}
	if err := checkTenant(t); err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return outage(err)
	}
	defer conn.Release()
	return outage(fn(&Tx{tx: &readTx{conn: conn.Conn(), t: t}, t: t, jobs: s.jobs}))
}

// readSettingsSQL names the tenant for the row-level security policies and makes the
// implicit transaction read-only, so a write sent through Read fails instead of committing.
const readSettingsSQL = `SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', $2, true),
	set_config('transaction_read_only', 'on', true)`

// readCustomPlansSQL is readSettingsSQL for a Read that asked for plans made for each
// statement's values (preferCustomPlans). Two constant texts keep both prepared.
const readCustomPlansSQL = `SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', $2, true),
	set_config('transaction_read_only', 'on', true), set_config('plan_cache_mode', 'force_custom_plan', true)`

// errReadOnly refuses what a Read cannot do.
var errReadOnly = errors.New("store: not available in a read (use InTx)")

// readTx is the pgx.Tx a Read hands to store functions: each statement goes out in a
// batch behind readSettingsSQL.
type readTx struct {
	conn        *pgx.Conn
	t           auth.Caller
	customPlans bool // preferCustomPlans was called: plan each statement for its values
}

func (r *readTx) batch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+1)}
	settings := readSettingsSQL
	if r.customPlans {
		settings = readCustomPlansSQL
	}
	all.Queue(settings, r.t.WorkspaceID, string(r.t.Mode))
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	br := r.conn.SendBatch(ctx, all)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return failedBatch{err}
	}
	return br
}

func (r *readTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return queryAlone(r.batch(ctx, batchOf(sql, args)))
}

func (r *readTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := r.Query(ctx, sql, args...)
	return batchRow{rows: rows, err: err}
}

func (r *readTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return execAlone(r.batch(ctx, batchOf(sql, args)))
}

// batchOf is a batch of the one statement sql.
func batchOf(sql string, args []any) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return b
}

// queryAlone is the rows of br's one statement; closing them closes br.
func queryAlone(br pgx.BatchResults) (pgx.Rows, error) {
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// execAlone runs br's one statement and closes br.
func execAlone(br pgx.BatchResults) (pgconn.CommandTag, error) {
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (r *readTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return r.batch(ctx, b)
}

func (r *readTx) Begin(context.Context) (pgx.Tx, error) { return nil, errReadOnly }
func (r *readTx) Commit(context.Context) error          { return nil }
func (r *readTx) Rollback(context.Context) error        { return nil }
func (r *readTx) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errReadOnly
}
func (r *readTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (r *readTx) Prepare(context.Context, string, string) (*pgconn.StatementDescription, error) {
	return nil, errReadOnly
}
func (r *readTx) Conn() *pgx.Conn { return r.conn }

// batchRows are the rows of a batch's one query; closing them closes the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// batchRow is QueryRow's row: the first of the rows, or pgx.ErrNoRows.
type batchRow struct {
	rows pgx.Rows
	err  error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// failedBatch is the results of a batch whose tenant settings failed.
type failedBatch struct{ err error }

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return errRows{f.err}, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return batchRow{err: f.err} }
func (f failedBatch) Close() error                     { return f.err }
func (f failedBatch) Tx() pgx.Tx                       { return nil }
