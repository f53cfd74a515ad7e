// Package bench measures Relm where it must be fast and writes the Markdown report kept in
// docs/performance.md: throughput and latency of a real `relm serve` over REST and MCP
// beside the same SQL run straight on PostgreSQL, the server's memory, batch import against
// raw COPY, search and list latency at scale, webhook delivery, and a check of every query
// plan for sequential scans. `relm bench` runs it.
package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// Options say what to measure, how long, and on which database.
type Options struct {
	Contacts   int           // contacts to seed (companies are 1/20 of that, deals 1/5, activities 1/4, contact-to-deal associations 1/4)
	ImportRows int           // rows of the batch-import comparison
	Queries    int           // calls per row of the in-process latency table
	Duration   time.Duration // measured time of each operation × surface × concurrency cell
	Conns      []int         // concurrencies: connections, each one worker in a closed loop

	WebhookSeconds int // length of the steady 100 events/s webhook run
	WebhookEvents  int // events of the webhook saturation run (each to 8 endpoints)

	DatabaseURL  string // an existing database, as its owner; empty: a private cluster
	DataDir      string // where that private cluster lives; empty: a temp dir, removed after
	Reuse        bool   // reuse the workspace an earlier run seeded instead of seeding again
	WebhooksOnly bool   // measure webhook delivery only (no seeding, no server)
	// Only names the sections to measure after seeding (Sections); empty: all of them.
	Only []string
	// Ops names the operations measured over HTTP by their tools (OperationTools); empty:
	// all of them.
	Ops []string

	// BareServer, when set, is the address to run the bare server on (ServeBare) for
	// BareWorkspace, instead of measuring: how relm bench starts it as a child process.
	BareServer, BareWorkspace string

	// Command is the command line shown in the report.
	Command string
	// Relm returns the command that runs relm with args (`serve …`, and the bare server
	// `bench --bare-server …`); default: this executable.
	Relm func(args []string) (*exec.Cmd, error)
	Log  *slog.Logger
}

func (o *Options) defaults() {
	if o.Contacts <= 0 {
		o.Contacts = 1_000_000
	}
	if o.ImportRows <= 0 {
		o.ImportRows = 100_000
	}
	if o.Queries <= 0 {
		o.Queries = 400
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if len(o.Conns) == 0 {
		o.Conns = []int{1, 16, 64}
	}
	if o.WebhookSeconds <= 0 {
		o.WebhookSeconds = 10
	}
	if o.WebhookEvents <= 0 {
		o.WebhookEvents = 2000
	}
	if o.Relm == nil {
		o.Relm = func(args []string) (*exec.Cmd, error) {
			self, err := os.Executable()
			if err != nil {
				return nil, err
			}
			return exec.Command(self, args...), nil
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
}

// notes explain the report; they end every report.
//
//go:embed notes.md
var notes string

// bench is one run: its connections, the seeded data and the report being written.
type bench struct {
	opts  Options
	url   string // the database, as its owner
	pgPID int    // its postmaster, when this run started it (0 otherwise)
	st    *store.Store
	admin *store.Admin
	conn  *pgx.Conn // the owner's connection: seeding, COPY, EXPLAIN, statistics
	reg   *tools.Registry
	log   *slog.Logger
	plans *planRecorder
	data  seedData
	box   *secrets.Box // seals the webhook endpoints' secrets
	// secret signs the registries' cursors and keys box.
	secret []byte
	rep    report
}

// Run measures as opts say and writes the Markdown report to out.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	opts.defaults()
	url, pgPID, stop, err := database(ctx, opts)
	if err != nil {
		return err
	}
	defer stop()
	if err := store.Migrate(ctx, url); err != nil {
		return err
	}
	b := &bench{opts: opts, url: url, pgPID: pgPID, log: opts.Log, plans: &planRecorder{seen: map[string]bool{}}}
	if b.st, err = store.Open(ctx, url, store.WithTracer(b.plans)); err != nil {
		return err
	}
	defer b.st.Close()
	if b.admin, err = store.OpenAdmin(ctx, url); err != nil {
		return err
	}
	defer b.admin.Close()
	if b.conn, err = pgx.Connect(ctx, url); err != nil {
		return err
	}
	defer b.conn.Close(context.WithoutCancel(ctx))
	b.secret = server.NewSecretKey()
	if b.box, err = secrets.NewBox(b.secret); err != nil {
		return err
	}
	if b.reg, err = b.registry(b.st); err != nil {
		return err
	}

	started := time.Now()
	if err := b.measure(ctx); err != nil {
		return err
	}
	header, err := b.header(ctx, started)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	doc.WriteString(header)
	b.rep.writeTargets(&doc, opts.Contacts)
	doc.Write(b.rep.body.Bytes())
	doc.WriteString("\n" + notes)
	_, err = out.Write(doc.Bytes())
	return err
}

// registry is the capabilities over st, as a server builds them.
func (b *bench) registry(st *store.Store) (*tools.Registry, error) {
	reg, err := tools.NewRegistry(b.log, tools.All(st)...)
	if err == nil {
		err = reg.EnableCursors(b.secret)
	}
	if err != nil {
		return nil, err
	}
	reg.EnableEmail(tools.EmailServices{Box: b.box, Resend: email.NewClient("", "relm-bench", nil)})
	return reg, nil
}

// Sections are the measurements a run makes after seeding, in order; Options.Only picks
// some of them.
var Sections = []string{"latency", "import", "http", "webhooks", "plans"}

// measure runs every measurement in turn (those opts.Only names), each writing its section
// of the report.
func (b *bench) measure(ctx context.Context) error {
	if b.opts.WebhooksOnly {
		return b.webhookDelivery(ctx)
	}
	if err := b.seed(ctx); err != nil {
		return err
	}
	// The in-process latencies first, on exactly the seeded data: the HTTP runs add contacts.
	steps := map[string]func(context.Context) error{"latency": b.latencies, "import": b.importComparison,
		"http": b.overHTTP, "webhooks": b.webhookDelivery, "plans": b.planReport}
	for _, name := range Sections {
		if len(b.opts.Only) > 0 && !slices.Contains(b.opts.Only, name) {
			continue
		}
		if err := steps[name](ctx); err != nil {
			return err
		}
	}
	return nil
}

// database returns the URL of the database to measure on, as its owner: opts.DatabaseURL,
// or a private cluster with fsync on, in opts.DataDir or a temp dir, and then its
// postmaster's process id.
func database(ctx context.Context, opts Options) (url string, pgPID int, stop func(), err error) {
	if opts.DatabaseURL != "" {
		return opts.DatabaseURL, 0, func() {}, nil
	}
	dir, cleanup := opts.DataDir, func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "relm-bench-"); err != nil {
			return "", 0, nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		if err := os.Chmod(dir, 0o711); err != nil { // reachable by the postgres user when root
			cleanup()
			return "", 0, nil, err
		}
	}
	cluster, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "postgres"), Fsync: true, Logger: opts.Log})
	if err != nil {
		cleanup()
		return "", 0, nil, err
	}
	stop = func() {
		if err := cluster.Stop(context.Background()); err != nil {
			opts.Log.Warn("stopping the private cluster", "err", err)
		}
		cleanup()
	}
	if url, err = ensureDatabase(ctx, cluster, "relm_bench"); err != nil {
		stop()
		return "", 0, nil, err
	}
	return url, cluster.PID(), stop, nil
}

// ensureDatabase creates database name on the cluster when missing and returns its URL.
func ensureDatabase(ctx context.Context, c *localpg.Cluster, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
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
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	return b.callJSON(ctx, name, raw)
}

// callJSON runs a capability on the arguments raw, as a request body brings them.
func (b *bench) callJSON(ctx context.Context, name string, raw []byte) (any, error) {
	return callOn(ctx, b.reg, name, raw)
}

// callOn runs the capability name of reg on the arguments raw.
func callOn(ctx context.Context, reg *tools.Registry, name string, raw []byte) (any, error) {
	e, ok := reg.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no capability %s", name)
	}
	decoded, derr := tools.DecodeArgs(raw)
	if derr != nil {
		return nil, derr
	}
	out, cerr := e.CallJSON(ctx, raw, decoded)
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}
