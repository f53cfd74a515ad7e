package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/relmcrm/relm/auth"
)

// listKeys prints a workspace's keys: id, mode, prefix…last4, created, revoked.
func listKeys(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	workspace := fs.String("workspace", "", "workspace name")
	modeFlag := fs.String("mode", "", "live or test (default: both)")
	dbf := dbFlags{share: true}
	dbf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	mode, ok := auth.ParseMode(*modeFlag)
	if *workspace == "" || (*modeFlag != "" && !ok) {
		return errors.New("usage: relm keys list --workspace NAME [--mode live|test]")
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	ws, err := findWorkspace(ctx, db, *workspace)
	if err != nil {
		return err
	}
	keys, err := db.Admin.ListAPIKeys(ctx, ws.ID, mode)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tMODE\tKEY\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s…%s\t%s\t%s\n", k.ID, k.Mode, k.Prefix, k.Last4, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return w.Flush()
}

// revokeKey revokes a key by id; it stops working at once.
func revokeKey(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("keys revoke", flag.ContinueOnError)
	dbf := dbFlags{share: true}
	dbf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: relm keys revoke [flags] KEY_ID (flags come before the id)")
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := db.Admin.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
		return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintln(stdout, "revoked", fs.Arg(0))
	return nil
}
