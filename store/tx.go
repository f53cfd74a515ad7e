package store

import (
	"context"
	"errors"
	"fmt"
	"github.com/riverqueue/river"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/relmcrm/relm/auth"
)

// Tx is one transaction on behalf of one tenant: every tenant read and write goes through
// one, so a change and the events it records commit or roll back together.
type Tx struct {
	tx   pgx.Tx
	t    auth.Caller
	jobs *river.Client[pgx.Tx] // inserts the jobs that continue the transaction's work
}

// InTx runs fn in a transaction for tenant t, committing when fn returns nil. With
// tenantBatch, it is where the tenant is named to the row-level security policies: the
// settings are local to the transaction, sent with its BEGIN, and gone when it ends; BEGIN,
// the settings and the question whether the tenant has an enabled webhook endpoint or
// automation (RecordEvents) go out pipelined with the transaction's first statement
// (writeTx), so they cost no round trip of their own.
//
// A database outage comes back as ErrUnavailable.
//
// Under a context from WithTx for the same caller, fn runs inside that transaction instead,
// as a savepoint: its work is undone alone if fn fails, and otherwise commits or rolls back
// with the enclosing transaction.
func (s *Store) InTx(ctx context.Context, t auth.Caller, fn func(*Tx) error) error {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok && outer.t == t {
		return outage(pgx.BeginFunc(ctx, outer.tx, func(sp pgx.Tx) error {
			return fn(&Tx{tx: sp, t: t, jobs: s.jobs})
		}))
	}
	if err := checkTenant(t); err != nil {
		return err
	}
	return outage(s.inWriteTx(ctx, t, func(tx pgx.Tx) error {
		return fn(&Tx{tx: tx, t: t, jobs: s.jobs})
	}))
}

type txKey struct{}

// WithTx returns ctx carrying tx, so that everything run under it through InTx for the same
// caller joins tx. An idempotent request uses it to commit its writes and its stored
// response together.
func WithTx(ctx context.Context, tx *Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// tenantBatch sends the statements of b for tenant t in one round trip, then read consumes
// their results in order. A batch runs as one implicit transaction, so the settings naming
// the tenant, queued first and local to it, scope every statement of b and end with it. It
// is InTx for a few fixed statements on the hot path of every request (metering, request
// logs), where BEGIN and COMMIT would be two more round trips.
func (s *Store) tenantBatch(ctx context.Context, t auth.Caller, b *pgx.Batch, read func(pgx.BatchResults) error) (err error) {
	defer func() { err = outage(err) }()
	if err := checkTenant(t); err != nil {
		return err
	}
	all := &pgx.Batch{}
	all.Queue(tenantSettingsSQL, t.WorkspaceID, string(t.Mode))
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	br := s.pool.SendBatch(ctx, all)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return err
	}
	if err := read(br); err != nil {
		br.Close()
		return err
	}
	return br.Close()
}

// checkTenant refuses a caller whose workspace is not a plain id or whose mode is unknown.
func checkTenant(t auth.Caller) error {
	if !plainWord(t.WorkspaceID) || (t.Mode != auth.Live && t.Mode != auth.Test) {
		return fmt.Errorf("store: transaction without a valid tenant (workspace %q, mode %q)", t.WorkspaceID, t.Mode)
	}
	return nil
}

// plainWord reports whether s is non-empty and only ASCII letters, digits and underscores.
func plainWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return s != ""
}

// Caller is the tenant the transaction acts for.
func (tx *Tx) Caller() auth.Caller { return tx.t }

// InvalidReferenceError means a reference field names no record of the tenant.
type InvalidReferenceError struct{ Field string }

func (e *InvalidReferenceError) Error() string { return "store: invalid reference in " + e.Field }

// ErrIDTaken means a record with the id being inserted exists (a restore racing another).
var ErrIDTaken = errors.New("store: id already taken")

// referenceFields maps foreign-key constraint names to the field they check.
var referenceFields = map[string]string{
	"contacts_company_id_fkey":                        "company_id",
	"deals_company_id_fkey":                           "company_id",
	"deals_primary_contact_id_fkey":                   "primary_contact_id",
	"activities_contact_id_fkey":                      "contact_id",
	"activities_deal_id_fkey":                         "deal_id",
	"activities_company_id_fkey":                      "company_id",
	"deals_stage_fkey":                                "stage",
	"pipeline_stages_workspace_id_mode_pipeline_fkey": "pipeline",
}

// classify turns Postgres constraint violations into the store's named errors.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if pgErr.Code == "23505" && pgErr.ConstraintName == "contacts_email" {
		return ErrEmailTaken
	}
	if pgErr.Code == "23505" && strings.HasSuffix(pgErr.ConstraintName, "_pkey") {
		return ErrIDTaken
	}
	if pgErr.Code == "23503" { // foreign_key_violation
		if field, ok := referenceFields[pgErr.ConstraintName]; ok {
			return &InvalidReferenceError{Field: field}
		}
	}
	return err
}

// wrap names the operation in an unexpected error, keeping named errors as they are.
func wrap(op string, err error) error {
	var ref *InvalidReferenceError
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrEmailTaken) || errors.Is(err, ErrIDTaken) || errors.As(err, &ref) {
		return err
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
