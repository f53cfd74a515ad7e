// Command relm is the Relm CRM server and its administration commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// command is one relm command. The overview (`relm`, `relm help`) and each command's help
// (`relm help NAME`, `relm NAME --help`) are made from this table only. Run parses its
// flags with parseFlags before doing anything else, so that --help lists them.
type command struct {
	Name     string // the words after relm: "serve", "keys create"
	Summary  string // one line for the overview
	Usage    string // what follows the name: "[flags] KEY_ID"
	Doc      string // what it does, for its help
	Examples []string
	Run      func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error
}

// commands are every relm command, in the order the overview lists them.
var commands = []command{
	{Name: "serve", Summary: "run the server: REST under /v1, MCP at /mcp", Usage: "[flags]",
		Doc: `Runs the HTTP server (REST API, MCP endpoint, OpenAPI document) with webhook, email and
automation workers. Without --database-url it runs a private PostgreSQL cluster in --data-dir
and stops it on exit. On an empty database it creates the workspace "default" and prints its
live and test keys, once. Ctrl-C finishes in-flight requests before stopping.`,
		Examples: []string{
			"relm serve",
			"relm serve --addr 0.0.0.0:8080 --public-url https://crm.example.com",
			"RELM_DATABASE_URL=postgres://relm@db/relm RELM_SECRET_KEY=$(cat secret) relm serve",
		}, Run: serve},
	{Name: "migrate", Summary: "apply database migrations", Usage: "[flags]",
		Doc:      `Applies the embedded migrations to the database and exits. serve migrates on start too.`,
		Examples: []string{"relm migrate", "relm migrate --database-url postgres://owner@db/relm"}, Run: migrate},
	{Name: "keys create", Summary: "make an API key and print it", Usage: "--workspace NAME --mode live|test [--create] [flags]",
		Doc: `Makes a new API key for a workspace and prints only the key on stdout, so scripts can keep it.
The key is shown this once. --create creates the workspace when none has the name. --scopes
limits what it may do (read, write, TOOLSET:read, TOOLSET:write; default: everything).`,
		Examples: []string{
			"relm keys create --workspace default --mode test",
			"RELM_API_KEY=$(relm keys create --workspace acme --mode live --create)",
			"relm keys create --workspace acme --mode live --scopes read",
		}, Run: createKey},
	{Name: "keys list", Summary: "list a workspace's API keys", Usage: "--workspace NAME [--mode live|test] [flags]",
		Doc:      `Lists a workspace's keys: id, mode, the key's first and last characters, created and revoked times.`,
		Examples: []string{"relm keys list --workspace default", "relm keys list --workspace acme --mode live"}, Run: listKeys},
	{Name: "keys revoke", Summary: "revoke an API key", Usage: "[flags] KEY_ID",
		Doc:      `Revokes a key by its id (key_…, from keys list); it stops working at once.`,
		Examples: []string{"relm keys revoke key_3kq7…"}, Run: revokeKey},
	{Name: "workspaces set-plan", Summary: "move a workspace to a plan", Usage: "--workspace NAME --plan free|team [flags]",
		Doc:      `Moves a workspace to a plan (its quota and features); running servers apply it from their next request.`,
		Examples: []string{"relm workspaces set-plan --workspace acme --plan team"}, Run: setPlan},
	{Name: "secrets rewrap", Summary: "re-seal stored credentials under the current secret", Usage: "[flags]",
		Doc: `After RELM_SECRET_KEY changed, with the previous secrets in RELM_SECRET_KEY_OLD, seals every
stored credential (Resend keys, webhook signing secrets) again under the current secret, so
that the old ones can be dropped.`,
		Examples: []string{"RELM_SECRET_KEY=$NEW RELM_SECRET_KEY_OLD=$OLD relm secrets rewrap"}, Run: rewrapSecrets},
	{Name: "openapi", Summary: "print the OpenAPI document", Usage: "[--format yaml|json] [--public-url URL]",
		Doc:      `Prints the OpenAPI 3.1 document the server serves at /openapi.yaml, without a database.`,
		Examples: []string{"relm openapi > openapi.yaml", "relm openapi --format json --public-url https://crm.example.com"}, Run: printOpenAPI},
	{Name: "eval", Summary: "replay eval transcripts", Usage: "[flags] [PATH…]",
		Doc: `Replays agent transcripts (the built-in suite, or the files and directories given) through a real
MCP client, each in a fresh workspace served in-process, or with --url and --key against a
running server in a sandbox of the key's workspace. Prints PASS, FAIL or SKIP per transcript
and exits non-zero if any failed.`,
		Examples: []string{
			"relm eval",
			"relm eval --repeat 4 my-evals/ log-a-call.json -v",
			"relm eval --url http://127.0.0.1:8080 --key sk_test_… my-evals/",
		}, Run: evalCmd},
	{Name: "bench", Summary: "measure performance and write the report", Usage: "[flags]",
		Doc: `Seeds a workspace and measures REST, MCP and raw SQL side by side, then writes the report of
docs/performance.md. The default run seeds 1M contacts and takes several minutes.`,
		Examples: []string{"relm bench --out docs/performance.md", "relm bench --contacts 10000 --duration 1s --conns 1,16"}, Run: benchCmd},
	{Name: "import", Summary: "import contacts from a CSV file through the API", Usage: "contacts [flags] FILE.csv",
		Doc: importDoc, Examples: importExamples, Run: importCmd},
	{Name: "export", Summary: "export records as JSON Lines or CSV through the API", Usage: "contacts|companies|deals|activities [flags]",
		Doc: exportDoc, Examples: exportExamples, Run: exportCmd},
	{Name: "mcp", Summary: "serve MCP over stdio as the caller of RELM_API_KEY", Usage: "[flags]",
		Doc: `Serves Relm's MCP server over stdio, for desktop clients (Claude Desktop, Cursor) that run it as
a local command, as the caller of the API key in RELM_API_KEY, on the database the other
commands use. Same tools, validation, rate limits, quotas and request logs as /mcp; it runs
the background work (webhooks, email, automations) too. Stdout carries only the protocol;
logs go to stderr. It stops when the client closes stdin.`,
		Examples: []string{
			"RELM_API_KEY=sk_test_… relm mcp",
			`claude_desktop_config.json: {"mcpServers": {"relm": {"command": "relm", "args": ["mcp"], "env": {"RELM_API_KEY": "sk_test_…"}}}}`,
		}, Run: mcpCmd},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, logs := bufferedLogger(os.Stderr)
	flushing, stopFlushing := context.WithCancel(context.Background())
	flushed := make(chan struct{})
	go func() { logs.run(flushing); close(flushed) }()
	err := run(ctx, os.Args[1:], os.Stdout, log)
	stopFlushing()
	<-flushed // every line logged before the error below
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "relm:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is the exit status of run's error: 0 for none, 2 for a command line relm could
// not use (no command, an unknown one, a bad flag), 1 for a command that failed.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp), errors.As(err, &u):
		return 2
	}
	return 1
}

// usageError is a command line relm could not use.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// run dispatches to the command args name. With no command it prints the overview on stderr
// and returns flag.ErrHelp; an unknown command prints it too and is a usageError (both exit
// status 2); help is printed on stdout and is not an error.
func run(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, overview())
		return flag.ErrHelp
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			fmt.Fprint(stdout, overview())
			return nil
		}
		return help(ctx, args[1:], stdout, log)
	}
	cmd, rest, group := lookup(args)
	if cmd == nil {
		if group != "" {
			if len(args) > 1 && isHelpFlag(args[1]) {
				fmt.Fprint(stdout, groupHelp(group))
				return nil
			}
			var usages []string
			for _, c := range groupCommands(group) {
				usages = append(usages, "relm "+c.Name+" "+c.Usage)
			}
			return usageError{fmt.Errorf("unknown command %q (usage: %s)", strings.Join(args[:min(2, len(args))], " "), strings.Join(usages, "; "))}
		}
		fmt.Fprint(os.Stderr, overview())
		return usageError{fmt.Errorf("unknown command %q (relm help lists the commands)", args[0])}
	}
	err := cmd.Run(ctx, rest, stdout, log)
	if errors.Is(err, flag.ErrHelp) {
		var h *helpRequest
		errors.As(err, &h)
		var fs *flag.FlagSet
		if h != nil {
			fs = h.flags
		}
		writeHelp(stdout, cmd, fs)
		return nil
	}
	return err
}

// help is `relm help COMMAND…`: the command's help, got by asking it for --help so that the
// flags listed are the ones it parses.
func help(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	cmd, rest, group := lookup(args)
	switch {
	case cmd != nil && len(rest) == 0:
		return run(ctx, append(args, "--help"), stdout, log)
	case cmd == nil && group != "" && len(args) == 1:
		fmt.Fprint(stdout, groupHelp(group))
		return nil
	}
	fmt.Fprint(os.Stderr, overview())
	return usageError{fmt.Errorf("no command is called %q (relm help lists the commands)", strings.Join(args, " "))}
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// version is the module version of this build, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// env returns the environment variable name, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
