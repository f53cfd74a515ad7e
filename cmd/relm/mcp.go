package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

// mcpCmd serves Relm's MCP server over stdio, for desktop clients (Claude Desktop, Cursor)
// that run it as a local command, as the caller of RELM_API_KEY, on the database the other
// commands use. Stdout carries the protocol; logs go to stderr.
func mcpCmd(ctx context.Context, args []string, _ io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	var sf serverFlags
	sf.register(fs)
	dbf := dbFlags{share: true}
	dbf.register(fs)
	toolsets := fs.String("toolsets", env("RELM_TOOLSETS", ""),
		"the toolsets to serve, comma-separated, as /mcp?toolsets= takes them: core (the default), all, contacts, webhooks, … (RELM_TOOLSETS)")
	readOnly := fs.Bool("read-only", false, "serve only the tools that change nothing, as /mcp?read_only=true")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key := os.Getenv("RELM_API_KEY")
	if key == "" {
		return errors.New("relm mcp acts as the caller of an API key: set RELM_API_KEY to one (relm keys create --workspace NAME --mode test prints a new one)")
	}
	if err := sf.check(); err != nil {
		return err
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := dbf.openStore(ctx, db); err != nil {
		return err
	}
	db.Admin.Close() // like relm serve, it keeps no owner connection while serving
	db.Admin = nil
	secret, mail, err := sf.services(&dbf, db, log)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Store: db.Store, Logger: log, Version: version(), SecretKey: secret, Email: mail})
	if err != nil {
		return err
	}
	work, err := server.StartWork(ctx, db.Store, mail, srv.Registry, server.WorkOptions{Log: log, Version: version()})
	if err != nil {
		return err
	}
	sel, serr := srv.Registry.SelectionOf(*toolsets, strconv.FormatBool(*readOnly))
	if serr != nil {
		return fmt.Errorf("--toolsets: %s", serr.Message)
	}
	log.Info("relm mcp serving MCP over stdio", "toolsets", cmp.Or(strings.Join(sel.Names(), ","), tools.AllToolsets), "read_only", sel.ReadOnly)
	err = srv.ServeMCP(ctx, key, sel, &mcp.StdioTransport{})
	if errors.Is(err, server.ErrKeyRefused) {
		err = errors.New("RELM_API_KEY is unknown, revoked or expired: make a new key with relm keys create")
	} else if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		err = nil
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cerr := srv.Close(shutdownCtx); cerr != nil {
		log.Warn("could not write the last rate-limit counts and request logs", "err", cerr)
	}
	if serr := work.Stop(shutdownCtx); serr != nil {
		log.Warn("background work did not stop cleanly; its jobs will be taken over", "err", serr)
	}
	return errors.Join(err, db.Close(shutdownCtx))
}
