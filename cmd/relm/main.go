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
	"syscall"
)

const usage = `relm — an MCP-first, API-first CRM server

Usage:
  relm serve   [--addr ADDR] [--public-url URL] [--data-dir DIR] [--database-url URL] [--secret-key KEY] [--record DIR]
  relm migrate [--data-dir DIR] [--database-url URL]
  relm keys create --workspace NAME --mode live|test [--create] [--data-dir DIR] [--database-url URL]
  relm keys list   --workspace NAME [--mode live|test]
  relm keys revoke [--data-dir DIR] [--database-url URL] KEY_ID
  relm workspaces set-plan --workspace NAME --plan free|team [--data-dir DIR] [--database-url URL]
  relm secrets rewrap [--secret-key KEY --secret-key-old OLD] [--data-dir DIR] [--database-url URL]
  relm openapi [--format yaml|json] [--public-url URL]
  relm mcp     [--data-dir DIR] [--database-url URL]   (MCP over stdio as the caller of RELM_API_KEY)
  relm eval    [--url URL --key KEY] [--parallel N] [--repeat K] [--json] [--junit FILE] [--keep] [PATH…]
  relm bench   [--contacts N] [--duration D] [--conns 1,16,64] [--data-dir DIR | --database-url URL] [--reuse] [--webhooks-only] [--out FILE]

Without --database-url (RELM_DATABASE_URL), relm runs a private PostgreSQL cluster in
--data-dir (RELM_DATA_DIR). Flags fall back to RELM_* environment variables.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(ctx, os.Args[1:], os.Stdout, log); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "relm:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, log)
	case "migrate":
		return migrate(ctx, args[1:], log)
	case "keys":
		if len(args) < 2 {
			return errors.New("usage: relm keys create|list|revoke …")
		}
		switch args[1] {
		case "create":
			return createKey(ctx, args[2:], stdout, log)
		case "list":
			return listKeys(ctx, args[2:], stdout, log)
		case "revoke":
			return revokeKey(ctx, args[2:], stdout, log)
		}
		return fmt.Errorf("unknown keys command %q (create, list or revoke)", args[1])
	case "workspaces":
		return workspacesCommand(ctx, args[1:], stdout, log)
	case "secrets":
		if len(args) < 2 || args[1] != "rewrap" {
			return errors.New("usage: relm secrets rewrap [--secret-key KEY --secret-key-old OLD] [--data-dir DIR] [--database-url URL]")
		}
		return rewrapSecrets(ctx, args[2:], stdout, log)
	case "openapi":
		return printOpenAPI(args[1:], stdout, log)
	case "eval":
		return evalCmd(ctx, args[1:], stdout, log)
	case "mcp":
		return mcpCmd(ctx, args[1:], log)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

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
