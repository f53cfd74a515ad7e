package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/auth"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// JobsSchema is the schema holding the job queue's tables. The queue is River: jobs are
// rows inserted in the transaction whose work they continue (a webhook delivery in the
// transaction that records its event), so a crash can neither lose nor invent one, and
// every server process on the database shares them.
const JobsSchema = "river"

// migrateJobs applies River's own migrations in JobsSchema under an advisory lock (replicas
// starting together migrate once), and lets AppRole use its tables.
func migrateJobs(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: JobsSchema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	// Each of River's migrations runs in a transaction of its own (one adds an enum value
	// that a later one uses), so replicas take turns on a session lock instead.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('relm.migrate.jobs', 0))`); err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended('relm.migrate.jobs', 0))`)
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	_, err = conn.Exec(ctx, `
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA `+JobsSchema+` TO `+AppRole+`;
		GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA `+JobsSchema+` TO `+AppRole)
	if err != nil {
		return fmt.Errorf("store: grant jobs: %w", err)
	}
	return nil
}

// JobClient is a client of the job queue on the store's connections (as AppRole). With
// workers and queues in cfg it works jobs once started; without, it only inserts them.
func (s *Store) JobClient(cfg *river.Config) (*river.Client[pgx.Tx], error) {
	c := *cfg
	c.Schema = JobsSchema
	client, err := river.NewClient(riverpgxv5.New(s.pool), &c)
	if err != nil {
		return nil, fmt.Errorf("store: job client: %w", err)
	}
	return client, nil
}

// JobTenant names, in a job's arguments, the tenant the job works for: the queue itself
// belongs to no tenant.
type JobTenant struct {
	WorkspaceID string    `json:"workspace_id"`
	Mode        auth.Mode `json:"mode"`
}

// Caller is the tenant the job works for.
func (t JobTenant) Caller() auth.Caller { return auth.Caller{WorkspaceID: t.WorkspaceID, Mode: t.Mode} }

func (tx *Tx) jobTenant() JobTenant { return JobTenant{WorkspaceID: tx.t.WorkspaceID, Mode: tx.t.Mode} }

var errNoJobs = errors.New("store: no job client to queue jobs with")

// enqueue queues jobs in tx, so they are worked only if tx commits, with opts; a job due
// now (ScheduledAt not in the future) is available at once, where a scheduled one would
// wait for the queue's scheduler.
func (tx *Tx) enqueue(ctx context.Context, what string, jobs []river.JobArgs, opts river.InsertOpts) error {
	if len(jobs) == 0 {
		return nil
	}
	if tx.jobs == nil {
		return errNoJobs
	}
	if !opts.ScheduledAt.After(time.Now()) {
		opts.ScheduledAt = time.Time{}
	}
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: j, InsertOpts: &opts}
	}
	_, err := tx.jobs.InsertManyFastTx(ctx, tx.tx, params)
	return wrap("enqueue "+what, err)
}
