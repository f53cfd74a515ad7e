package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/localpg"
)

// dbFlags are the flags of every command that needs the database.
type dbFlags struct {
	dataDir        string
	databaseURL    string
	appDatabaseURL string
	share          bool // use the private cluster of a running `relm serve` if there is one
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", env("RELM_DATA_DIR", defaultDataDir()), "where the private PostgreSQL cluster lives (RELM_DATA_DIR)")
	fs.StringVar(&f.databaseURL, "database-url", env("RELM_DATABASE_URL", ""),
		"use this PostgreSQL database instead of a private cluster, connecting as the role that owns Relm's tables (RELM_DATABASE_URL)")
	fs.StringVar(&f.appDatabaseURL, "app-database-url", env("RELM_APP_DATABASE_URL", ""),
		"with --database-url: serve requests over this connection, as a login role that is a member of relm_app and owns nothing; "+
			"default: --database-url, switched to relm_app with SET ROLE (RELM_APP_DATABASE_URL)")
}

// defaultDataDir is $XDG_DATA_HOME/relm (or ~/.local/share/relm); for root, whose home
// the unprivileged PostgreSQL user cannot enter, it is /var/lib/relm.
func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/relm"
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "relm")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "relm")
	}
	return "relm-data"
}

// again are the flags another command needs to reach the same database, for messages
// that print a command: --data-dir when it is not the default, and a reminder of
// --database-url when one is used (its value may hold a password).
func (f *dbFlags) again() string {
	switch {
	case f.databaseURL != "":
		return " (with the same --database-url or RELM_DATABASE_URL)"
	case f.dataDir != env("RELM_DATA_DIR", defaultDataDir()):
		return " --data-dir " + quote(f.dataDir)
	case os.Getenv("RELM_DATA_DIR") != "":
		return " (with the same RELM_DATA_DIR)"
	}
	return ""
}

// clusterDir is where the private cluster lives, when there is no --database-url.
func (f *dbFlags) clusterDir() string { return filepath.Join(f.dataDir, "postgres") }

// database is an open, migrated database, with the private cluster behind it if any. Admin
// is the owner's connection; Store, opened by openStore for the commands that serve
// requests, runs as relm_app under row-level security.
type database struct {
	*store.Store
	Admin    *store.Admin
	cluster  *localpg.Cluster
	ownerURL string
}

// open connects to --database-url, or starts the private cluster, then migrates and opens
// the owner's connection.
func (f *dbFlags) open(ctx context.Context, log *slog.Logger) (*database, error) {
	db := &database{}
	url := f.databaseURL
	if url == "" {
		var err error
		if db.cluster, err = localpg.Start(ctx, localpg.Options{Dir: f.clusterDir(), Fsync: true, Logger: log, Share: f.share}); err != nil {
			return nil, err
		}
		log.Info("private PostgreSQL cluster started", "dir", f.clusterDir())
		if url, err = ensureDatabase(ctx, db.cluster, "relm"); err != nil {
			db.Close(context.Background())
			return nil, err
		}
	}
	if err := store.Migrate(ctx, url); err != nil {
		db.Close(context.Background())
		return nil, err
	}
	db.ownerURL = url
	var err error
	if db.Admin, err = store.OpenAdmin(ctx, url); err != nil {
		db.Close(context.Background())
		return nil, err
	}
	return db, nil
}

// openStore opens db.Store, the connections that serve requests: on the private cluster
// relm_app logs in itself, so no server session could even RESET ROLE to an owner; with
// --database-url, over --app-database-url if given, else the owner's URL (store.Open
// switches it to relm_app).
func (f *dbFlags) openStore(ctx context.Context, db *database) error {
	url := f.appDatabaseURL
	switch {
	case db.cluster != nil:
		var err error
		if url, err = db.cluster.LoginURL(ctx, store.AppRole, "relm"); err != nil {
			return err
		}
	case url == "":
		url = db.ownerURL
	}
	s, err := store.Open(ctx, url)
	db.Store = s
	return err
}

// Close disconnects and stops the private cluster, if one was started.
func (db *database) Close(ctx context.Context) error {
	if db.Store != nil {
		db.Store.Close()
	}
	if db.Admin != nil {
		db.Admin.Close()
	}
	if db.cluster != nil {
		return db.cluster.Stop(ctx)
	}
	return nil
}

// ensureDatabase creates database name on the cluster when missing and returns its URL.
func ensureDatabase(ctx context.Context, c *localpg.Cluster, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to private cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return c.URL(name), nil
}
