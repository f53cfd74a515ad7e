package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/server"
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
	log.Info("relm mcp serving MCP over stdio")
	err = srv.ServeMCP(ctx, key, &mcp.StdioTransport{})
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
