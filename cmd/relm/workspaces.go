package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/relmcrm/relm/store"
)

// setPlan moves a workspace to a plan; running servers apply it from their next request.
func setPlan(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("workspaces set-plan", flag.ContinueOnError)
	workspace := fs.String("workspace", "", "workspace name")
	plan := fs.String("plan", "", strings.Join(store.Plans, " or "))
	dbf := dbFlags{share: true}
	dbf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *workspace == "" || !slices.Contains(store.Plans, *plan) || fs.NArg() > 0 {
		return errors.New("usage: relm workspaces set-plan --workspace NAME --plan " + strings.Join(store.Plans, "|"))
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := db.Admin.SetWorkspacePlan(ctx, *workspace, *plan); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return unknownWorkspace(ctx, db, *workspace)
		}
		return err
	}
	fmt.Fprintf(stdout, "workspace %s is on the %s plan\n", *workspace, *plan)
	return nil
}
