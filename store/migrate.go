package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies every pending embedded migration to the database at url, as the role
// that owns (or will own) Relm's tables. It holds a Postgres advisory lock while it runs, so
// replicas starting together migrate once. As a superuser it also marks the built-ins in
// leakproofFunctions LEAKPROOF.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgxConfig(url)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	defer db.Close()
	if err := migrateDB(ctx, db); err != nil {
		return err
	}
	return migrateJobs(ctx, url)
}

func migrateDB(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return markLeakproof(ctx, db)
}
