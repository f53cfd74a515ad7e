// Package store is Relm's PostgreSQL storage: migrations, tenants and keys, and the CRM
// records. Every tenant query is scoped by workspace and mode.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound means no record matched in the caller's workspace and mode.
var ErrNotFound = errors.New("store: not found")

// Store is the handle on Relm's database.
type Store struct {
	pool *pgxpool.Pool
	// fieldSchemas caches compiled custom field schemas by definitions version.
	fieldSchemas schemaCache
}

func pgxConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	return cfg, nil
}

// Option adjusts how Open connects.
type Option func(*pgxpool.Config)

// WithTracer observes every query (benchmarks use it to check query plans).
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// Open connects to the database at url. It does not migrate; call Migrate first.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxConfig(url)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close releases every connection.
func (s *Store) Close() { s.pool.Close() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }
