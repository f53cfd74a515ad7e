package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/evals/sandbox"
)

// evalCmd replays transcripts: by default each in a fresh workspace of its own on the
// configured database, served in-process; with --url and --key against a running server,
// each in a sandbox of the key's workspace.
func evalCmd(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	url := fs.String("url", env("RELM_EVAL_URL", ""), "replay against this running server (base URL or its /mcp endpoint), each transcript in a sandbox of --key's workspace, instead of in-process (RELM_EVAL_URL)")
	key := fs.String("key", env("RELM_EVAL_KEY", ""), "with --url: a key of the workspace whose sandboxes the transcripts run in; that workspace itself is never written (RELM_EVAL_KEY)")
	parallel := fs.Int("parallel", 4, "runs to make at once (of the same transcript or others)")
	repeat := fs.Int("repeat", 1, "replay each transcript `k` times, each in a fresh workspace, and report pass^1 … pass^k")
	asJSON := fs.Bool("json", false, "print a JSON report instead of one line per transcript")
	junit := fs.String("junit", "", "also write a JUnit XML report to this file")
	keep := fs.Bool("keep", false, "keep each transcript's workspace (sandbox with --url) and print it with its key, to inspect what it wrote")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit of each tool call")
	verbose := fs.Bool("v", false, "print every call's arguments and result")
	dbf := dbFlags{share: true}
	dbf.register(fs)
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if (*url == "") != (*key == "") {
		return errors.New("--url and --key go together: the server to replay against and the API key to use")
	}
	if *parallel < 1 {
		return errors.New("--parallel must be at least 1")
	}
	if *repeat < 1 {
		return fmt.Errorf("--repeat must be at least 1 (the runs of each transcript), not %d", *repeat)
	}
	ts, err := loadTranscripts(paths)
	if err != nil {
		return err
	}

	runner := &evals.Runner{Parallel: *parallel, Repeat: *repeat, Timeout: *timeout}
	if *verbose {
		var mu sync.Mutex
		runner.Trace = func(t *evals.Transcript, c evals.Trace) {
			mu.Lock()
			defer mu.Unlock()
			evals.WriteTrace(os.Stderr, t, c)
		}
	}
	if *url != "" {
		runner.Target = &evals.Remote{URL: *url, Key: *key, Keep: *keep, Kept: func(transcript, sandbox, key string) {
			fmt.Fprintf(os.Stderr, "kept sandbox %s for %s (key %s)\n", sandbox, transcript, key)
		}}
	} else {
		db, err := dbf.open(ctx, log)
		if err != nil {
			return err
		}
		defer db.Close(context.Background())
		if err := dbf.openStore(ctx, db); err != nil {
			return err
		}
		serverLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		sb, err := sandbox.New(db.Store, db.Admin, serverLog)
		if err != nil {
			return err
		}
		defer sb.Close()
		sb.Keep = *keep
		sb.Kept = func(transcript, workspace, key string) {
			fmt.Fprintf(os.Stderr, "kept workspace %s for %s (key %s)\n", workspace, transcript, key)
		}
		runner.Target = sb
	}

	start := time.Now()
	results := runner.Run(ctx, ts, func(r evals.Result) {
		if !*asJSON {
			evals.WriteLine(stdout, r)
		}
	})
	elapsed := time.Since(start)
	if *asJSON {
		if err := evals.WriteJSON(stdout, results); err != nil {
			return err
		}
	} else {
		evals.WriteSummary(stdout, results, elapsed)
	}
	if *junit != "" {
		if err := writeJUnit(*junit, results, elapsed); err != nil {
			return err
		}
	}
	if failed := evals.Summary(results).Failed; failed > 0 {
		return fmt.Errorf("%d of %d transcripts failed", failed, len(results))
	}
	return nil
}

// loadTranscripts reads the transcripts at paths, or the built-in suite when there are none.
func loadTranscripts(paths []string) ([]*evals.Transcript, error) {
	if len(paths) == 0 {
		return evals.Suite()
	}
	return evals.Load(paths...)
}

func writeJUnit(path string, results []evals.Result, elapsed time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := evals.WriteJUnit(f, results, elapsed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseInterleaved parses flags that may come before, between or after the positional
// arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
