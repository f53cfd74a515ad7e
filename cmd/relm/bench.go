package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relmcrm/relm/bench"
)

// benchCmd runs the benchmark behind docs/performance.md (package bench) and writes its
// report to --out or stdout.
func benchCmd(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	opts, out, err := benchFlags(args)
	if err != nil {
		return err
	}
	if opts.BareServer != "" {
		return bench.ServeBare(ctx, opts.DatabaseURL, opts.BareWorkspace, opts.BareServer)
	}
	opts.Log = log
	return writeBench(ctx, opts, out, stdout)
}

// namesFlag reads the comma-separated value of --flag, each name one of valid (what);
// empty is none.
func namesFlag(flag, value, what string, valid []string) ([]string, error) {
	if value == "" {
		return nil, nil
	}
	var names []string
	for _, s := range strings.Split(value, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(valid, s) {
			return nil, fmt.Errorf("--%s %q: want %s of %s", flag, s, what, strings.Join(valid, ", "))
		}
		names = append(names, s)
	}
	return names, nil
}

// benchFlags parses the flags of `relm bench` into the benchmark's options and the report's
// file ("" for stdout).
func benchFlags(args []string) (bench.Options, string, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	opts := bench.Options{Command: commandLine("relm bench", args)}
	var lf limitFlags // for its parsing of RELM_* numbers and durations
	fs.IntVar(&opts.Contacts, "contacts", int(lf.envInt("RELM_BENCH_CONTACTS", 1_000_000)),
		"contacts to seed; companies are 1/20 of that, deals 1/5, activities 1/4 (RELM_BENCH_CONTACTS)")
	fs.DurationVar(&opts.Duration, "duration", lf.envDuration("RELM_BENCH_DURATION", 5*time.Second),
		"measured time of each operation × surface × concurrency, after a warm-up of a fifth of it (RELM_BENCH_DURATION)")
	conns := fs.String("conns", env("RELM_BENCH_CONNS", "1,16,64"), "comma-separated concurrencies: connections, each a closed loop (RELM_BENCH_CONNS)")
	fs.IntVar(&opts.ImportRows, "import-rows", 100_000, "rows of the batch import against COPY comparison")
	fs.IntVar(&opts.Queries, "queries", 400, "calls per row of the in-process search and list latency table")
	fs.IntVar(&opts.WebhookSeconds, "webhook-seconds", 10, "length of the steady webhook run, at 100 events/s")
	fs.IntVar(&opts.WebhookEvents, "webhook-events", 2000, "events of the webhook saturation run, each delivered to 8 endpoints")
	// Not RELM_DATABASE_URL: that names the database a server serves, which a benchmark
	// must not fill with a million contacts by accident.
	fs.StringVar(&opts.DatabaseURL, "database-url", env("RELM_BENCH_DATABASE_URL", ""),
		"a database to measure on, as the role that owns Relm's tables; it gets a workspace \"bench\" "+
			"(RELM_BENCH_DATABASE_URL; default: a private cluster)")
	fs.StringVar(&opts.DataDir, "data-dir", "", "keep the private cluster in this directory, for --reuse (default: a temp dir, removed after)")
	fs.BoolVar(&opts.Reuse, "reuse", false, "reuse the workspace an earlier run seeded in --database-url or --data-dir instead of seeding again")
	fs.BoolVar(&opts.WebhooksOnly, "webhooks-only", false, "measure webhook delivery only (no seeding, no server)")
	only := fs.String("only", "", "comma-separated sections to measure after seeding, of "+strings.Join(bench.Sections, ", ")+" (default: all)")
	ops := fs.String("ops", "", "comma-separated operations to measure over HTTP, by tool, of "+strings.Join(bench.OperationTools, ", ")+" (default: all)")
	out := fs.String("out", "", "write the report to this file (default: stdout)")
	fs.StringVar(&opts.BareServer, "bare-server", "", "internal, for relm bench itself: serve the operations' raw SQL on this address, as the bare server of the ceiling table")
	fs.StringVar(&opts.BareWorkspace, "bare-workspace", "", "internal: the seeded workspace the bare server reads and writes")
	if err := parseFlags(fs, args); err != nil {
		return opts, "", err
	}
	if lf.err != nil {
		return opts, "", lf.err
	}
	if fs.NArg() > 0 {
		return opts, "", fmt.Errorf("relm bench takes no arguments, got %q", fs.Args())
	}
	var err error
	if opts.Only, err = namesFlag("only", *only, "sections", bench.Sections); err != nil {
		return opts, "", err
	}
	if opts.Ops, err = namesFlag("ops", *ops, "operations", bench.OperationTools); err != nil {
		return opts, "", err
	}
	for _, s := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return opts, "", fmt.Errorf("--conns %q: want comma-separated numbers from 1 to 1024", *conns)
		}
		opts.Conns = append(opts.Conns, n)
	}
	if opts.BareServer != "" {
		// It runs SQL as the tables' owner for anyone who can reach it: loopback only.
		if host, _, err := net.SplitHostPort(opts.BareServer); err != nil || !net.ParseIP(host).IsLoopback() {
			return opts, "", fmt.Errorf("--bare-server %q: want a loopback address and port, such as 127.0.0.1:9000", opts.BareServer)
		}
	}
	if opts.Contacts < 20 || opts.Duration <= 0 {
		return opts, "", fmt.Errorf("--contacts must be at least 20 and --duration positive")
	}
	return opts, *out, nil
}

// writeBench runs the benchmark and writes its report to the file out, or to stdout; the
// file is written only when the whole run succeeded.
func writeBench(ctx context.Context, opts bench.Options, out string, stdout io.Writer) error {
	if out == "" {
		return bench.Run(ctx, opts, stdout)
	}
	var report strings.Builder
	if err := bench.Run(ctx, opts, &report); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(report.String()), 0o644)
}

// commandLine is the command as typed, for the report.
func commandLine(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
