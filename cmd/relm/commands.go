package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
)

func serve(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", env("RELM_ADDR", "127.0.0.1:8080"), "address to listen on (RELM_ADDR)")
	allowedHosts := fs.String("allowed-hosts", env("RELM_ALLOWED_HOSTS", ""), "comma-separated Host names /mcp answers, e.g. behind a reverse proxy (RELM_ALLOWED_HOSTS)")
	allowedOrigins := fs.String("allowed-origins", env("RELM_ALLOWED_ORIGINS", ""), "comma-separated browser origins trusted to call /mcp, e.g. https://app.example.com (RELM_ALLOWED_ORIGINS)")
	publicURL := fs.String("public-url", env("RELM_PUBLIC_URL", ""), "URL clients reach this server at, published as the OpenAPI "+
		"document's server and used in /docs and /llms.txt, e.g. https://crm.example.com behind a proxy; default http:// and the listen address (RELM_PUBLIC_URL)")
	recordDir := fs.String("record", env("RELM_RECORD_DIR", ""), "write each MCP session's tool calls to this directory as an eval transcript (RELM_RECORD_DIR)")
	var sf serverFlags
	sf.register(fs)
	var dbf dbFlags
	dbf.register(fs)
	var lf limitFlags
	lf.register(fs)
	var af accountFlags
	af.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := af.check(); err != nil {
		return err
	}
	limits, err := lf.limits()
	if err != nil {
		return err
	}
	memLimit, err := lf.applyMemoryLimit()
	if err != nil {
		return err
	}
	if *publicURL != "" { // refuse a malformed URL before starting anything
		if _, err := server.ParsePublicURL(*publicURL); err != nil {
			return fmt.Errorf("--public-url (RELM_PUBLIC_URL): %w", err)
		}
	}
	if err := sf.check(); err != nil { // refuse malformed keys before starting anything
		return err
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := bootstrap(ctx, db, dbf.again(), stdout); err != nil {
		return err
	}
	claimToken, err := af.offerFirstWorkspace(ctx, db)
	if err != nil {
		return err
	}
	if err := dbf.openStore(ctx, db); err != nil {
		return err
	}
	// From here on the process serves requests: it keeps no owner connection.
	db.Admin.Close()
	db.Admin = nil
	if unmarked, fix, err := db.UnmarkedLeakproof(ctx); err != nil {
		return err
	} else if len(unmarked) > 0 {
		log.Warn("built-in functions are not marked LEAKPROOF in this database (only a superuser can mark them), so beneath "+
			"row-level security email lookups and metadata filters read every row of the tenant instead of using "+
			"their indexes; run in this database as a superuser: "+fix, "functions", unmarked)
	}
	secret, mail, err := sf.services(&dbf, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close() // after Serve, a no-op
	var plugins []server.MCPPlugin
	if *recordDir != "" {
		plugins = append(plugins, evals.RecordPlugin(*recordDir, log))
	}
	public := cmp.Or(*publicURL, server.ListenURL(ln.Addr().String()))
	srv, err := server.New(server.Config{Store: db.Store, Logger: log, Version: version(), SecretKey: secret, Email: mail,
		AllowedHosts: list(*allowedHosts), AllowedOrigins: list(*allowedOrigins), Limits: limits, MCPPlugins: plugins,
		Schemas:   map[string][]byte{path.Base(evals.SchemaID): evals.Schema()}, // at the path its $id names
		PublicURL: public, Accounts: af.service(db.Store, &dbf, mail.Resend, public, secret, log)})
	if err != nil {
		return err
	}
	af.printClaim(stdout, strings.TrimRight(public, "/"), claimToken)
	defer srv.Close(context.Background()) // on an early return; a no-op after the shutdown below
	ln = server.LimitConnsPerClient(ln, int(lf.connsPerClient))
	stopPurging := startPurging(ctx, log, retention(db.Store))
	defer stopPurging()
	deliveries, err := server.StartWork(ctx, db.Store, mail, srv.Registry, server.WorkOptions{Log: log, Version: version(), RescueAfter: lf.rescueAfter})
	if err != nil {
		return err
	}
	go server.ReturnIdleMemory(ctx, 10*time.Second)
	hs := server.NewHTTPServer(srv, lf.timeouts)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("relm listening", "url", "http://"+ln.Addr().String(), "mcp", "http://"+ln.Addr().String()+"/mcp",
		"docs", "http://"+ln.Addr().String()+"/docs", "memory_limit_mib", memLimit>>20)
	if *publicURL != "" {
		log.Info("the OpenAPI document and /docs name the public URL", "public_url", *publicURL)
	}
	if *recordDir != "" {
		log.Info("recording MCP sessions as eval transcripts", "dir", *recordDir)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	stopPurging()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := srv.Close(shutdownCtx); err != nil {
		log.Warn("could not write the last rate-limit counts, request logs and recorded sessions", "err", err)
	}
	if err := deliveries.Stop(shutdownCtx); err != nil {
		log.Warn("webhook deliveries did not stop cleanly; their jobs will be taken over", "err", err)
	}
	return db.Close(shutdownCtx)
}

// serverFlags are the flags of the commands that serve Relm (serve, mcp): the server secret
// and Resend's API.
type serverFlags struct {
	resendURL, secretKey, secretKeyOld string
	secret                             []byte   // --secret-key, once checked; nil when not given
	old                                [][]byte // --secret-key-old, once checked
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.resendURL, "resend-base-url", env("RELM_RESEND_BASE_URL", "https://api.resend.com"),
		"base URL of Resend's API, which live email goes through (RELM_RESEND_BASE_URL)")
	fs.StringVar(&f.secretKey, "secret-key", env("RELM_SECRET_KEY", ""), "base64 of 32 random bytes, the same for every server process on the database, that keys "+
		"cursors; default: kept with the private cluster, or made anew at each start with --database-url (RELM_SECRET_KEY)")
	fs.StringVar(&f.secretKeyOld, "secret-key-old", env("RELM_SECRET_KEY_OLD", ""), "comma-separated secret keys used before --secret-key, "+
		"so that credentials stored under them still open during a rotation (RELM_SECRET_KEY_OLD)")
}

// check reads --secret-key and --secret-key-old, refusing malformed ones.
func (f *serverFlags) check() (err error) {
	if f.secretKey != "" {
		if f.secret, err = server.ParseSecretKey(f.secretKey); err != nil {
			return fmt.Errorf("--secret-key (RELM_SECRET_KEY): %w", err)
		}
	}
	f.old, err = parseOldSecrets(f.secretKeyOld)
	return err
}

// services are, once the database is open, the server secret (serverSecret) and the email
// services sealing and sending under it.
func (f *serverFlags) services(dbf *dbFlags, db *database, log *slog.Logger) ([]byte, *tools.EmailServices, error) {
	secret, box, err := serverSecret(dbf, db, f.secret, f.old, log)
	if err != nil {
		return nil, nil, err
	}
	return secret, &tools.EmailServices{Box: box, Resend: email.NewClient(f.resendURL, "Relm/"+version(), nil)}, nil
}

// serverSecret is the server secret to use — secret if given, else the one kept with the
// private cluster (made on first use) or, with --database-url, a new one — and the box
// sealing stored credentials under it (oldSecrets still open what they sealed).
func serverSecret(dbf *dbFlags, db *database, secret []byte, oldSecrets [][]byte, log *slog.Logger) ([]byte, *secrets.Box, error) {
	persistent := true
	if secret == nil {
		clusterDir := ""
		if db.cluster != nil {
			clusterDir = dbf.clusterDir()
		}
		var err error
		if secret, persistent, err = defaultSecret(clusterDir, log); err != nil {
			return nil, nil, err
		}
	}
	box, err := secretBox(secret, persistent, oldSecrets)
	if err != nil {
		return nil, nil, err
	}
	if !box.Available() {
		log.Warn(noLastingSecretWarning)
	}
	return secret, box, nil
}

// bootstrap creates the first workspace, "default", and prints its keys, once, on an empty
// database; on a later start it says that keys were issued and how to make another. again
// are the database flags a later command must repeat.
func bootstrap(ctx context.Context, db *database, again string, stdout io.Writer) error {
	names, err := db.Admin.WorkspaceNames(ctx)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		ws := names[0]
		if slices.Contains(names, "default") {
			ws = "default"
		}
		fmt.Fprintf(stdout, "API keys were issued when the workspace %s was created and are not shown again (workspaces: %s).\n"+
			"To make a new key: relm keys create --workspace %s --mode test%s\n", quote(ws), strings.Join(names, ", "), quote(ws), again)
		return nil
	}
	ws, created, err := db.Admin.EnsureWorkspace(ctx, "default")
	if err != nil || !created {
		return err
	}
	_, live, err := db.Admin.CreateAPIKey(ctx, ws.ID, auth.Live)
	if err != nil {
		return err
	}
	_, test, err := db.Admin.CreateAPIKey(ctx, ws.ID, auth.Test)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created workspace %q (name it with --workspace %s in relm commands). Its API keys are shown only this once; store them now:\n"+
		"  live: %s\n  test: %s\n", ws.Name, ws.Name, live, test)
	return nil
}

func migrate(ctx context.Context, args []string, _ io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dbf := dbFlags{share: true}
	dbf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := dbf.open(ctx, log) // opening migrates
	if err != nil {
		return err
	}
	log.Info("database is migrated")
	return db.Close(ctx)
}

func createKey(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	workspace := fs.String("workspace", "", "workspace name (the first start creates one called default)")
	modeFlag := fs.String("mode", "", "live or test")
	create := fs.Bool("create", false, "create the workspace when no workspace has that name")
	scopeFlag := fs.String("scopes", "", "comma-separated scopes limiting the key: read, write, TOOLSET:read, TOOLSET:write (default: full access)")
	dbf := dbFlags{share: true}
	dbf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	mode, ok := auth.ParseMode(*modeFlag)
	if *workspace == "" || !ok || fs.NArg() > 0 {
		return errors.New("usage: relm keys create --workspace NAME --mode live|test [--create] [--scopes read]")
	}
	scopes, err := tools.ParseScopes(strings.FieldsFunc(*scopeFlag, func(r rune) bool { return r == ',' || r == ' ' }))
	if err != nil {
		return fmt.Errorf("--scopes: %w", err)
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	var ws store.Workspace
	if *create {
		var created bool
		if ws, created, err = db.Admin.EnsureWorkspace(ctx, *workspace); err != nil {
			return err
		}
		if created {
			log.Info("created workspace", "workspace", ws.Name)
		}
	} else if ws, err = findWorkspace(ctx, db, *workspace); err != nil {
		return err
	}
	_, secret, err := db.Admin.CreateScopedAPIKey(ctx, ws.ID, mode, scopes)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

// findWorkspace returns the workspace called name; when there is none, the error names the
// workspaces there are and how to create one.
func findWorkspace(ctx context.Context, db *database, name string) (store.Workspace, error) {
	ws, err := db.Admin.WorkspaceByName(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return ws, err
	}
	return ws, unknownWorkspace(ctx, db, name)
}

// unknownWorkspace says that no workspace is called name, which there are, and how to make one.
func unknownWorkspace(ctx context.Context, db *database, name string) error {
	names, err := db.Admin.WorkspaceNames(ctx)
	if err != nil {
		return err
	}
	there := "there are none"
	if len(names) > 0 {
		there = "workspaces: " + strings.Join(names, ", ")
	}
	return fmt.Errorf("no workspace is called %q (%s); to create it with a key: relm keys create --workspace %s --mode test --create",
		name, there, quote(name))
}

// quote shell-quotes s when it needs it, for commands printed to be pasted.
func quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printOpenAPI(_ context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	format := fs.String("format", "yaml", "yaml or json")
	publicURL := fs.String("public-url", env("RELM_PUBLIC_URL", server.DefaultPublicURL), "the server URL the document names (RELM_PUBLIC_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	srv, err := server.New(server.Config{Logger: log, Version: version(), PublicURL: *publicURL})
	if err != nil {
		return err
	}
	var out []byte
	switch *format {
	case "yaml":
		out, err = srv.API.OpenAPI().YAML()
	case "json":
		out, err = json.MarshalIndent(srv.API.OpenAPI(), "", "  ")
	default:
		return fmt.Errorf("unknown format %q (yaml or json)", *format)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// list splits a comma-separated flag value.
func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
