// Package store is Relm's PostgreSQL storage: migrations, tenants and keys, and the CRM
// records. Every tenant query is scoped by workspace and mode, and row-level security
// enforces the same scope underneath (see migration 00008 and InTx).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/schemas"
)

// ErrNotFound means no record matched in the caller's workspace and mode.
var ErrNotFound = errors.New("store: not found")

// AppRole is the database role every Store session acts as: it owns nothing, holds only the
// privileges the server needs, and is subject to the row-level security policies.
const AppRole = "relm_app"

// Store is the server's handle on Relm's database. Its sessions run as AppRole, so every
// query it makes is confined to the tenant its transaction names (InTx).
type Store struct {
	pool *pgxpool.Pool
	// jobs inserts jobs into the queue within tenant transactions (it works none).
	jobs *river.Client[pgx.Tx]
	// fieldSchemas caches compiled custom field schemas by definitions version.
	fieldSchemas schemaCache
	keys         keyCache // authenticated keys, dropped whenever any key is revoked
	stopListener context.CancelFunc
	listenerDone chan struct{}
}

func pgxConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	cfg.AfterConnect = exactJSON
	return cfg, nil
}

// exactJSON makes a new connection read json and jsonb numbers exactly: scanned into an
// interface (a record's metadata map), a number is a json.Number holding the digits
// PostgreSQL returned, never a float64 rounded to 53 bits. Writes marshal json.Number
// values as their literal, so numbers are exact both ways.
func exactJSON(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.RegisterType(&pgtype.Type{Name: "json", OID: pgtype.JSONOID, Codec: &pgtype.JSONCodec{Marshal: json.Marshal, Unmarshal: schemas.UnmarshalExact}})
	m.RegisterType(&pgtype.Type{Name: "jsonb", OID: pgtype.JSONBOID, Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: schemas.UnmarshalExact}})
	return nil
}

// Option adjusts how Open connects.
type Option func(*pgxpool.Config)

// WithTracer observes every query (benchmarks use it to check query plans).
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// Open connects to the migrated database at url. The URL's role may be AppRole itself or
// any role that is a member of it (such as the owner that ran the migrations): every
// connection switches to AppRole before it is used, and Open refuses a database where
// AppRole would bypass row-level security.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxConfig(url)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (the number of CPUs, at least 4) leaves requests queueing for a
		// connection while others wait on the network; a request holds one for a round trip.
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	for _, o := range opts {
		o(cfg)
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if err := exactJSON(ctx, conn); err != nil {
			return err
		}
		return actAsApp(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	// Connect once now, so a misconfigured role is reported at start rather than on the
	// first request.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	// FetchCooldown here paces the notifications that wake workers for new jobs: at most one
	// per queue per 10 ms (River's default of 100 ms adds 50 ms to a delivery on average).
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: JobsSchema, FetchCooldown: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: job client: %w", err)
	}
	s := &Store{pool: pool, jobs: jobs, listenerDone: make(chan struct{})}
	var lctx context.Context
	lctx, s.stopListener = context.WithCancel(context.Background())
	go func() {
		defer close(s.listenerDone)
		listenForKeyChanges(lctx, pool, &s.keys, slog.Default())
	}()
	return s, nil
}

// actAsApp makes a new connection act as AppRole and checks that the policies bind it.
func actAsApp(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SET ROLE "+AppRole); err != nil {
		return fmt.Errorf("the database role %q cannot act as %s (run the migrations, and GRANT %s TO %s): %w",
			conn.Config().User, AppRole, AppRole, pgx.Identifier{conn.Config().User}.Sanitize(), err)
	}
	var bypasses bool
	if err := conn.QueryRow(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&bypasses); err != nil {
		return err
	}
	if bypasses {
		return fmt.Errorf("the role %s is a superuser or has BYPASSRLS, so row-level security would not bind it; "+
			"ALTER ROLE %s NOSUPERUSER NOBYPASSRLS", AppRole, AppRole)
	}
	return nil
}

// Close releases every connection.
func (s *Store) Close() {
	s.stopListener()
	<-s.listenerDone
	s.pool.Close()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }
