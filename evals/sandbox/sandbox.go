// Package sandbox runs eval transcripts in-process: Relm's HTTP handler served on a local
// listener over a store, and for each transcript a fresh workspace with one API key, which
// is deleted afterwards with everything the transcript wrote.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/automations"
	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

// Sandbox is an evals.Target that gives each transcript its own workspace on one store.
type Sandbox struct {
	admin *store.Admin
	srv   *server.Server
	jobs  *webhooks.Engine
	// Keep leaves each workspace in place instead of deleting it, and calls Kept with its
	// name and key, to inspect what a transcript wrote.
	Keep bool
	Kept func(transcript, workspace, key string)
}

// New serves Relm over s (which must be migrated) with default settings and a secret key of
// its own (cursors live only as long as a transcript); admin, on the same database, creates
// and deletes the workspaces.
func New(s *store.Store, admin *store.Admin, log *slog.Logger) (*Sandbox, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secret := server.NewSecretKey()
	srv, err := server.New(server.Config{Store: s, Logger: log, Version: "eval", SecretKey: secret})
	if err != nil {
		return nil, err
	}
	box, err := secrets.NewBox(secret)
	if err != nil {
		return nil, err
	}
	// Background work runs as under relm serve: automation runs, webhook deliveries.
	runner := &automations.Runner{Store: s, Registry: srv.Registry, Log: log}
	jobs, err := webhooks.Start(context.Background(), s, webhooks.Options{Payload: tools.EventPayload, Open: tools.WebhookSecretOpener(box),
		Version: "eval", Log: log, Others: []webhooks.Work{{Queue: store.AutomationQueue, Workers: 4, Add: runner.Register}}})
	if err != nil {
		return nil, err
	}
	return &Sandbox{admin: admin, srv: srv, jobs: jobs}, nil
}

// Handler is the Relm server the sandbox runs, background work included, to serve over
// HTTP for targets that connect to a URL (evals.Remote).
func (sb *Sandbox) Handler() http.Handler { return sb.srv }

// Close stops the sandbox's background work.
func (sb *Sandbox) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = sb.jobs.Stop(ctx)
}

// Open creates a workspace named after t, on t's plan, with a key of t's mode, and connects to it over
// MCP (streamable HTTP) on a listener of its own. Closing waits for the listener's requests
// to finish, then deletes the workspace.
func (sb *Sandbox) Open(ctx context.Context, t *evals.Transcript) (*mcp.ClientSession, func(), error) {
	mode, ok := auth.ParseMode(t.KeyMode())
	if !ok {
		return nil, nil, fmt.Errorf("unknown mode %q", t.KeyMode())
	}
	ws, created, err := sb.admin.EnsureWorkspace(ctx, WorkspaceName(t.Name))
	if err != nil {
		return nil, nil, err
	}
	if !created { // names carry 48 random bits: this is not expected to happen
		return nil, nil, fmt.Errorf("workspace %s already exists", ws.Name)
	}
	cleanup := func() {
		if sb.Keep {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = sb.admin.DeleteWorkspace(ctx, ws.ID) // a failure leaves an eval-… workspace behind, nothing else
	}
	if t.Plan != "" {
		if err := sb.admin.SetWorkspacePlan(ctx, ws.Name, t.Plan); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	_, key, err := sb.admin.CreateAPIKey(ctx, ws.ID, mode)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	hs := httptest.NewServer(sb.srv)
	cs, err := evals.Dial(ctx, t.Endpoint(hs.URL+"/mcp"), key, hs.Client())
	if err != nil {
		hs.Close()
		cleanup()
		return nil, nil, err
	}
	return cs, func() {
		_ = cs.Close()
		hs.Close() // waits for in-flight requests, whose request logs land in the workspace
		if sb.Keep && sb.Kept != nil {
			sb.Kept(t.Name, ws.Name, key)
		}
		cleanup()
	}, nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// WorkspaceName is a new, unique workspace name for a run of the transcript called name:
// eval-<name>-<random>.
func WorkspaceName(name string) string {
	b := make([]byte, 6)
	rand.Read(b) // never fails
	slug := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(slug) > 60 {
		slug = slug[:60]
	}
	return "eval-" + slug + "-" + hex.EncodeToString(b)
}
