package store

import (
	"context"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Raw is the transaction underneath, for tests that query beneath the store's own SQL.
func (tx *Tx) Raw() pgx.Tx { return tx.tx }

// RawPool is the store's pool, for tests of sessions outside any tenant transaction.
func (s *Store) RawPool() *pgxpool.Pool { return s.pool }
func (a *Admin) RawPool() *pgxpool.Pool { return a.pool }

// PreferCustomPlansForTest is preferCustomPlans, for the test of what a Read carries.
func PreferCustomPlansForTest(ctx context.Context, tx *Tx) error { return preferCustomPlans(ctx, tx) }
