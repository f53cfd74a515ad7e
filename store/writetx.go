package store

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/relmcrm/relm/auth"
)

// tenantSettingsSQL names the tenant for the row-level security policies, for the rest of
// the transaction.
const tenantSettingsSQL = `SELECT set_config('relm.workspace', $1, true), set_config('relm.mode', $2, true)`

// triggersSQL says whether the tenant has an enabled webhook endpoint or automation: whether
// the events a transaction records may set anything off (RecordEvents). It goes out with
// BEGIN.
const triggersSQL = `SELECT EXISTS (SELECT FROM webhook_endpoints WHERE workspace_id = $1 AND mode = $2 AND enabled)
	OR EXISTS (SELECT FROM automations WHERE workspace_id = $1 AND mode = $2 AND enabled)`

// writeTx is the pgx.Tx of InTx: a transaction whose BEGIN, and the settings naming the
// tenant, go out pipelined with its first statement instead of in a round trip of their
// own. Once begun it is the connection's transaction, as pgx's own; a transaction that
// sent nothing commits or rolls back without a round trip.
//
// Statements whose results nobody reads may wait (deferred): they go out ahead of the
// transaction's next statement, or with its COMMIT, so that a write ending with its events
// commits in the events' round trip. An error of theirs is the next statement's, or the
// commit's, and fails the transaction as it would have failed then.
type writeTx struct {
	conn       *pgx.Conn
	t          auth.Caller
	begun      bool // BEGIN has been sent (and may have failed)
	closed     bool
	savepoints int64
	// quiet: BEGIN found the tenant without an enabled webhook endpoint or automation, and
	// the transaction has written none since (Tx.triggersChanged), so its events set
	// nothing off.
	quiet    bool
	deferred []*pgx.QueuedQuery
}

// batch sends b, behind BEGIN, the settings and the triggers check when the transaction
// has not begun, and behind the deferred statements; the results are b's alone.
func (w *writeTx) batch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if w.closed {
		return failedBatch{pgx.ErrTxClosed}
	}
	if w.settled() {
		return w.conn.SendBatch(ctx, b)
	}
	begin, deferred := !w.begun, w.deferred
	w.begun, w.deferred = true, nil
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+len(deferred)+3)}
	if begin {
		all.Queue("BEGIN")
		all.Queue(tenantSettingsSQL, w.t.WorkspaceID, string(w.t.Mode))
		all.Queue(triggersSQL, w.t.WorkspaceID, string(w.t.Mode))
	}
	all.QueuedQueries = append(all.QueuedQueries, deferred...)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	br := w.conn.SendBatch(ctx, all)
	if err := w.readAhead(br, begin, len(deferred)); err != nil {
		_ = br.Close()
		return failedBatch{err}
	}
	return br
}

// readAhead reads the results batch put before the caller's: BEGIN's, when begin, and
// those of the deferred statements.
func (w *writeTx) readAhead(br pgx.BatchResults, begin bool, deferred int) error {
	if begin {
		for range 2 {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		var triggers bool
		if err := br.QueryRow().Scan(&triggers); err != nil {
			return err
		}
		w.quiet = !triggers
	}
	for range deferred {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}

// deferExec queues a statement whose result nobody reads, to go out ahead of the next one.
func (w *writeTx) deferExec(sql string, args ...any) {
	w.deferred = append(w.deferred, &pgx.QueuedQuery{SQL: sql, Arguments: args})
}

// rootTx is the writeTx tx is, or is a savepoint of; nil for any other transaction.
func rootTx(tx pgx.Tx) *writeTx {
	switch t := tx.(type) {
	case *writeTx:
		return t
	case *savepointTx:
		return t.writeTx
	}
	return nil
}

// settled reports whether nothing waits to go before a statement sent straight to the
// connection: BEGIN has gone, and no deferred statement is left.
func (w *writeTx) settled() bool { return w.begun && len(w.deferred) == 0 }

// begin sends BEGIN and the settings, and the deferred statements, alone: for what cannot
// be pipelined behind them.
func (w *writeTx) begin(ctx context.Context) error {
	if w.closed {
		return pgx.ErrTxClosed
	}
	if w.settled() {
		return nil
	}
	br := w.batch(ctx, &pgx.Batch{})
	return br.Close()
}

// direct reports whether a statement goes straight to the connection: once the
// transaction has begun and nothing is deferred, and for what a batch would run
// differently (pgx runs an Exec without arguments on the simple protocol, which takes
// several statements, and reads options such as a QueryExecMode from the first argument);
// BEGIN and the deferred statements then go alone first.
func (w *writeTx) direct(ctx context.Context, exec bool, args []any) error {
	if w.closed {
		return pgx.ErrTxClosed
	}
	if w.settled() {
		return nil
	}
	if exec && len(args) == 0 || len(args) > 0 && queryOption(args[0]) {
		return w.begin(ctx)
	}
	return errPipeline
}

// errPipeline means a statement is to be pipelined behind BEGIN (direct).
var errPipeline = errors.New("store: pipeline behind BEGIN")

// queryOption reports whether pgx reads arg as an option of the query, not a parameter.
func queryOption(arg any) bool {
	switch arg.(type) {
	case pgx.QueryExecMode, pgx.QueryRewriter, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
		return true
	}
	return false
}

func (w *writeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	switch err := w.direct(ctx, false, args); err {
	case nil:
		return w.conn.Query(ctx, sql, args...)
	case errPipeline:
	default:
		return errRows{err}, err
	}
	return queryAlone(w.batch(ctx, batchOf(sql, args)))
}

func (w *writeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if w.direct(ctx, false, args) == nil {
		return w.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := w.Query(ctx, sql, args...)
	return batchRow{rows: rows, err: err}
}

func (w *writeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	switch err := w.direct(ctx, true, args); err {
	case nil:
		return w.conn.Exec(ctx, sql, args...)
	case errPipeline:
	default:
		return pgconn.CommandTag{}, err
	}
	return execAlone(w.batch(ctx, batchOf(sql, args)))
}

func (w *writeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return w.batch(ctx, b)
}

func (w *writeTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := w.begin(ctx); err != nil {
		return 0, err
	}
	return w.conn.CopyFrom(ctx, table, columns, src)
}

func (w *writeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := w.begin(ctx); err != nil {
		return nil, err
	}
	return w.conn.Prepare(ctx, name, sql)
}

func (w *writeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (w *writeTx) Conn() *pgx.Conn                { return w.conn }

// Begin starts a savepoint, as pgx's transactions do, pipelined behind BEGIN and the
// deferred statements.
func (w *writeTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if w.closed {
		return nil, pgx.ErrTxClosed
	}
	w.savepoints++
	if _, err := execAlone(w.batch(ctx, batchOf("savepoint sp_"+strconv.FormatInt(w.savepoints, 10), nil))); err != nil {
		return nil, err
	}
	return &savepointTx{writeTx: w, n: w.savepoints}, nil
}

// Commit commits as pgx's transactions do: ErrTxCommitRollback when the transaction had
// failed, and the connection closed when the commit leaves it inside a transaction. The
// deferred statements go out with COMMIT.
func (w *writeTx) Commit(ctx context.Context) error {
	if w.closed {
		return pgx.ErrTxClosed
	}
	if !w.begun {
		w.closed = true
		return nil
	}
	tag, err := execAlone(w.batch(ctx, batchOf("commit", nil)))
	w.closed = true
	if err != nil {
		if w.conn.PgConn().TxStatus() != 'I' {
			_ = w.conn.Close(ctx)
		}
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback rolls back, dropping the deferred statements; a failure closes the connection,
// whose state is then unknown. A BEGIN that never reached the server (a cancelled context)
// leaves nothing to roll back.
func (w *writeTx) Rollback(ctx context.Context) error {
	if w.closed {
		return pgx.ErrTxClosed
	}
	w.closed, w.deferred = true, nil
	if !w.begun || !w.conn.PgConn().IsBusy() && w.conn.PgConn().TxStatus() == 'I' {
		return nil
	}
	if _, err := w.conn.Exec(ctx, "rollback"); err != nil {
		_ = w.conn.Close(ctx)
		return err
	}
	return nil
}

// savepointTx is a nested transaction of a writeTx: a savepoint.
type savepointTx struct {
	*writeTx
	n      int64
	closed bool
}

func (sp *savepointTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if sp.closed {
		return nil, pgx.ErrTxClosed
	}
	return sp.writeTx.Begin(ctx)
}

func (sp *savepointTx) Commit(ctx context.Context) error {
	return sp.end(ctx, "release savepoint sp_")
}

// Rollback rolls back to the savepoint. The statements deferred meanwhile were all made
// after it (a savepoint begins with a statement, so with none deferred): they are dropped.
func (sp *savepointTx) Rollback(ctx context.Context) error {
	if !sp.closed {
		sp.writeTx.deferred = nil
	}
	return sp.end(ctx, "rollback to savepoint sp_")
}

// end releases or rolls back to the savepoint (verb, then its number), once, pipelined
// behind the deferred statements.
func (sp *savepointTx) end(ctx context.Context, verb string) error {
	if sp.closed {
		return pgx.ErrTxClosed
	}
	sp.closed = true
	_, err := execAlone(sp.writeTx.batch(ctx, batchOf(verb+strconv.FormatInt(sp.n, 10), nil)))
	return err
}

func (sp *savepointTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if sp.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return sp.writeTx.Exec(ctx, sql, args...)
}

func (sp *savepointTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if sp.closed {
		return errRows{pgx.ErrTxClosed}, pgx.ErrTxClosed
	}
	return sp.writeTx.Query(ctx, sql, args...)
}

func (sp *savepointTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if sp.closed {
		return batchRow{rows: errRows{pgx.ErrTxClosed}, err: pgx.ErrTxClosed}
	}
	return sp.writeTx.QueryRow(ctx, sql, args...)
}

func (sp *savepointTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if sp.closed {
		return failedBatch{pgx.ErrTxClosed}
	}
	return sp.writeTx.SendBatch(ctx, b)
}

func (sp *savepointTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if sp.closed {
		return 0, pgx.ErrTxClosed
	}
	return sp.writeTx.CopyFrom(ctx, table, columns, src)
}

func (sp *savepointTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if sp.closed {
		return nil, pgx.ErrTxClosed
	}
	return sp.writeTx.Prepare(ctx, name, sql)
}

// inWriteTx runs fn in a writeTx on a connection of the pool, committing when fn returns
// nil and rolling back otherwise, as pgx.BeginTxFunc does.
func (s *Store) inWriteTx(ctx context.Context, t auth.Caller, fn func(pgx.Tx) error) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release() // a connection left inside a transaction is closed, not reused
	tx := &writeTx{conn: conn.Conn(), t: t}
	defer func() {
		if rerr := tx.Rollback(ctx); rerr != nil && rerr != pgx.ErrTxClosed {
			err = rerr
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // the error to return is fn's
		return err
	}
	return tx.Commit(ctx)
}

// errRows are the rows of a query that failed before it was sent: none, and its error.
type errRows struct{ err error }

func (r errRows) Close()                                       {}
func (r errRows) Err() error                                   { return r.err }
func (r errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (r errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (r errRows) Next() bool                                   { return false }
func (r errRows) Scan(...any) error                            { return r.err }
func (r errRows) Values() ([]any, error)                       { return nil, r.err }
func (r errRows) RawValues() [][]byte                          { return nil }
func (r errRows) Conn() *pgx.Conn                              { return nil }
func (r errRows) TypeMap() *pgtype.Map                         { return nil }
