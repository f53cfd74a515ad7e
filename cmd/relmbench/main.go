// Command relmbench seeds a large workspace and measures Relm where it must be fast: batch
// import against a raw COPY of the same rows, and the latency of search and filtered lists
// through the real capabilities. It also checks every query plan for sequential scans of
// tenant tables. It prints a Markdown report (docs/performance.md holds the latest).
//
//	go run ./cmd/relmbench -contacts 1000000
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/localpg"
	"github.com/relmcrm/relm/tools"
)

type config struct {
	contacts, importRows, queries int
	databaseURL                   string
	reuse                         bool
	webhooksOnly                  bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.contacts, "contacts", 1_000_000, "contacts to seed (companies are 1/20 of that, deals 1/5)")
	flag.IntVar(&cfg.importRows, "import-rows", 100_000, "rows for the import comparison")
	flag.IntVar(&cfg.queries, "queries", 400, "queries per latency measurement")
	flag.StringVar(&cfg.databaseURL, "database-url", os.Getenv("RELM_BENCH_DATABASE_URL"), "an empty database to use (default: a private cluster in a temp dir)")
	flag.BoolVar(&cfg.reuse, "reuse", false, "with -database-url: reuse the workspace an earlier run seeded instead of seeding again")
	flag.BoolVar(&cfg.webhooksOnly, "webhooks-only", false, "measure webhook delivery only (no seeding)")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "relmbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	url := cfg.databaseURL
	if url == "" {
		dir, err := os.MkdirTemp("", "relmbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o711); err != nil { // reachable by the postgres user when root
			return err
		}
		cluster, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "pg"), Fsync: true, Logger: log})
		if err != nil {
			return err
		}
		defer cluster.Stop(context.Background())
		url = cluster.URL("postgres")
	}
	if err := store.Migrate(ctx, url); err != nil {
		return err
	}
	plans := &planRecorder{seen: map[string]bool{}}
	st, err := store.Open(ctx, url, store.WithTracer(plans))
	if err != nil {
		return err
	}
	defer st.Close()
	admin, err := store.OpenAdmin(ctx, url)
	if err != nil {
		return err
	}
	defer admin.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	secret := server.NewSecretKey()
	box, err := secrets.NewBox(secret)
	if err != nil {
		return err
	}
	reg, err := tools.NewRegistry(log, tools.All(st)...)
	if err == nil {
		err = reg.EnableCursors(secret)
	}
	if err != nil {
		return err
	}
	reg.EnableEmail(tools.EmailServices{Box: box, Resend: email.NewClient("", "relmbench", nil)})
	b := &bench{cfg: cfg, st: st, admin: admin, conn: conn, reg: reg, log: log, plans: plans, box: box}

	fmt.Fprintf(out, "# Performance\n\nMeasured by `go run ./cmd/relmbench -contacts %d -import-rows %d -queries %d` on %s, %d CPUs, %s, PostgreSQL %s (fsync on).\n\n",
		cfg.contacts, cfg.importRows, cfg.queries, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, b.serverVersion(ctx))
	if cfg.webhooksOnly {
		return b.webhookDelivery(ctx, out)
	}
	if err := b.seed(ctx); err != nil {
		return err
	}
	if err := b.importComparison(ctx, out); err != nil {
		return err
	}
	if err := b.latencies(ctx, out); err != nil {
		return err
	}
	if err := b.webhookDelivery(ctx, out); err != nil {
		return err
	}
	if err := b.planReport(ctx, out); err != nil {
		return err
	}
	_, err = fmt.Fprint(out, "\n"+notes)
	return err
}

// notes explain the report; they end every docs/performance.md it writes.
//
//go:embed notes.md
var notes string

type bench struct {
	cfg   config
	st    *store.Store
	admin *store.Admin
	conn  *pgx.Conn
	reg   *tools.Registry
	log   *slog.Logger
	plans *planRecorder
	data  seedData
	box   *secrets.Box // seals the webhook endpoints' secrets
}

func (b *bench) serverVersion(ctx context.Context) string {
	var v string
	_ = b.conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v
}

// as returns ctx acting as the live key of workspace name.
func (b *bench) as(ctx context.Context, name string) (context.Context, auth.Caller, error) {
	ws, _, err := b.admin.EnsureWorkspace(ctx, name)
	if err != nil {
		return nil, auth.Caller{}, err
	}
	c := auth.Caller{WorkspaceID: ws.ID, Mode: auth.Live, KeyID: "bench"}
	return auth.WithCaller(ctx, c), c, nil
}

// call runs a capability as REST and MCP would, from JSON arguments.
func (b *bench) call(ctx context.Context, name string, args map[string]any) (any, error) {
	e, ok := b.reg.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no capability %s", name)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	decoded, derr := tools.DecodeArgs(raw)
	if derr != nil {
		return nil, derr
	}
	out, cerr := e.Call(ctx, decoded)
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}
