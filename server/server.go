// Package server assembles Relm's HTTP surface: MCP at /mcp, REST under /v1, the OpenAPI
// document, published JSON Schemas, health checks, and the middleware every response goes
// through.
package server

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/dashboard"
	"github.com/relmcrm/relm/docsite"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/metering"
	"github.com/relmcrm/relm/oauth"
	"github.com/relmcrm/relm/prompts"
	"github.com/relmcrm/relm/resources"
	"github.com/relmcrm/relm/rest"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

// Config is what a server needs.
type Config struct {
	Store   *store.Store // nil only for document generation (OpenAPI, tool list)
	Logger  *slog.Logger
	Version string // build version, shown in the OpenAPI info and MCP server info
	// AllowedHosts are the Host names /mcp answers; empty means any, except that a server
	// listening on loopback answers loopback names only (DNS-rebinding protection).
	AllowedHosts []string
	// AllowedOrigins are browser origins (https://app.example.com) trusted to call /mcp
	// cross-site; same-origin requests and clients that send no Origin are always allowed.
	AllowedOrigins []string
	// Limits are the per-key rate limit and the per-plan monthly quotas (zero: defaults).
	Limits Limits
	// Email is what the email capabilities send with: the box sealing Resend keys and the
	// Resend client. Unset, keys are sealed under SecretKey and sent to the real Resend API.
	Email *tools.EmailServices
	// MCPPlugins add MCP middleware, outermost first, inside the metering and outside the
	// request log's outcome (relm serve --record wires in the eval recorder this way).
	MCPPlugins []MCPPlugin
	// Schemas are JSON Schema documents published, with no key, at /schemas/NAME by file
	// name (relm serve publishes the eval transcript schema this way).
	Schemas map[string][]byte
	// PublicURL is where clients reach this server (scheme, host and any path prefix, such
	// as https://crm.example.com), published as the OpenAPI document's server. Empty means
	// DefaultPublicURL.
	PublicURL string
	// SecretKey is the server secret (at least 32 random bytes, the same in every process on
	// the database) from which keys are derived, such as the one authenticating cursors.
	// Required with a Store.
	SecretKey []byte
	// Accounts signs people in to the dashboard; nil serves no dashboard. With it, Relm is
	// also an OAuth authorization server for MCP connectors (package oauth).
	Accounts *accounts.Service
	// OAuthFetch fetches OAuth Client ID Metadata Documents; nil means the webhooks'
	// SSRF-guarded client for public addresses. For tests.
	OAuthFetch *webhooks.Client
}

// MCPPlugin builds MCP middleware for the registry the server serves, and the function
// that Server.Close calls to let the plug-in finish its work (nil when it has none).
type MCPPlugin func(*tools.Registry) (mcp.Middleware, func(context.Context) error, error)

// Server is Relm's HTTP handler with the registry it serves.
type Server struct {
	Registry *tools.Registry
	API      huma.API
	handler  http.Handler
	meter    *metering.Meter // nil without a store
	logs     *metering.Logs
	store    *store.Store
	closers  []func(context.Context) error // of the MCP plug-ins
	closing  sync.Once
	buildMCP func(tools.Selection) *mcp.Server // an MCP server with every middleware of /mcp
	metered  *meterHTTP
}

// New builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	reg, err := tools.NewRegistry(cfg.Logger, tools.All(cfg.Store)...)
	if err != nil {
		return nil, err
	}
	reg.EnableIdempotency(cfg.Store)
	if cfg.Email == nil && cfg.SecretKey != nil {
		// The default: keys sealed under the server secret, the real Resend API.
		box, err := secrets.NewBox(cfg.SecretKey)
		if err != nil {
			return nil, err
		}
		cfg.Email = &tools.EmailServices{Box: box, Resend: email.NewClient("", "Relm/"+cfg.Version, nil)}
	}
	if cfg.Email != nil {
		reg.EnableEmail(*cfg.Email)
	}
	if cfg.Store != nil {
		if err := reg.EnableCursors(cfg.SecretKey); err != nil {
			return nil, err
		}
	}
	plugins := make([]mcp.Middleware, len(cfg.MCPPlugins))
	var closers []func(context.Context) error
	for i, p := range cfg.MCPPlugins {
		var closer func(context.Context) error
		if plugins[i], closer, err = p(reg); err != nil {
			return nil, err
		}
		if closer != nil {
			closers = append(closers, closer)
		}
	}
	publicURL, err := ParsePublicURL(cmp.Or(cfg.PublicURL, DefaultPublicURL))
	if err != nil {
		return nil, err
	}
	reg.SetPublicURL(publicURL)
	mux := http.NewServeMux()
	api := rest.New(mux, reg, cfg.Version)
	limits := cfg.Limits.withDefaults()
	srv := &Server{Registry: reg, API: api, store: cfg.Store, closers: closers}
	if cfg.Store != nil {
		srv.meter = metering.New(cfg.Store, limits.meterLimits(), limits.SyncEvery, cfg.Logger)
		srv.logs = metering.NewLogs(cfg.Store, limits.LogBuffer, limits.LogFlushEvery, cfg.Logger)
	}
	metered := newMeterHTTP(limits, srv.meter, srv.logs, cfg.Logger, reg, mux)
	api.OpenAPI().Servers = []*huma.Server{{URL: publicURL, Description: "This Relm server."}}
	site, err := docsite.New(reg, api.OpenAPI(), docsite.Options{PublicURL: publicURL, APIVersion: rest.APIVersion, Version: cfg.Version})
	if err != nil {
		return nil, err
	}
	site.Register(mux)
	var resourceMetadata string // with the OAuth server on, named by every 401's challenge
	if cfg.Accounts != nil && cfg.Store != nil {
		oa := oauth.New(oauth.Options{Store: cfg.Store, PublicURL: publicURL, Logger: cfg.Logger, Fetch: cfg.OAuthFetch})
		oa.Register(mux)
		resourceMetadata = oa.ResourceMetadataURL()
		d, err := dashboard.New(dashboard.Options{Registry: reg, Store: cfg.Store, Accounts: cfg.Accounts, Logger: cfg.Logger,
			PublicURL: publicURL, Version: cfg.Version, Allowance: metered.peekAllowance, OAuth: oa})
		if err != nil {
			return nil, err
		}
		d.Register(mux)
	}
	mcpOptions := tools.MCPOptions{Version: cfg.Version, IconURL: publicURL + docsite.IconPath, Complete: completeArguments(reg, cfg.Logger),
		ToolIcon: func(toolset string) string { return publicURL + docsite.ToolIconPath(toolset) }}
	buildMCP := func(sel tools.Selection) *mcp.Server {
		s := tools.NewMCPServer(reg, sel, mcpOptions)
		s.AddReceivingMiddleware(resources.ListRecent(reg)) // innermost: it answers resources/list itself
		s.AddReceivingMiddleware(reg.TenantToolSchemas)     // tools/list in the caller's terms
		s.AddReceivingMiddleware(reg.ScopedToolList)        // and only the tools its key may call
		s.AddReceivingMiddleware(reg.RecordOutcomes)        // for the request log
		for _, m := range slices.Backward(plugins) {        // the last added runs first
			s.AddReceivingMiddleware(m)
		}
		if srv.meter != nil {
			s.AddReceivingMiddleware(metered.meterMCP) // outermost: a refused request reaches nothing else
		}
		if err := resources.Register(s, reg); err != nil {
			panic(err) // checked below, at start-up
		}
		prompts.Register(s)
		return s
	}
	if err := resources.Register(tools.NewMCPServer(reg, tools.Selection{}, tools.MCPOptions{Version: cfg.Version}), reg); err != nil {
		return nil, err
	}
	srv.buildMCP, srv.metered = buildMCP, metered
	guard, err := guardMCP(cfg.AllowedHosts, cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	direct := &directToolCalls{reg: reg, sdk: tools.NewMCPHandler(reg, buildMCP)} // the same middleware, outermost first
	if srv.meter != nil {
		direct.middleware = append(direct.middleware, metered.meterMCP)
	}
	direct.middleware = append(direct.middleware, plugins...)
	direct.middleware = append(direct.middleware, reg.RecordOutcomes)
	mux.Handle("/mcp", direct)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Store == nil || cfg.Store.Ping(r.Context()) != nil {
			writeStatus(w, http.StatusServiceUnavailable, "database unreachable")
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	})

	mux.HandleFunc("GET /metrics", srv.serveMetrics)
	for name, doc := range cfg.Schemas {
		mux.HandleFunc("GET /schemas/"+name, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/schema+json")
			w.Header().Set("Cache-Control", "public, max-age=300") // no tenant data, like the docs
			_, _ = w.Write(doc)
		})
	}

	metered.next = routed(mux)
	var h http.Handler = metered // after authenticate: it counts and logs per key
	h = checkMCPEnvelope(h)      // refuses malformed JSON-RPC and batches before anything is counted
	h = limitInFlight(limits, h) // refuses before anything is read or counted
	h = authenticate(cfg.Logger, cfg.Store, limits, resourceMetadata, h)
	h = guard(h) // /mcp's browser and transport checks come before the key is looked up
	h = limitBody(h)
	h = recoverPanics(cfg.Logger, h)
	h = logRequests(cfg.Logger, h)
	h = stampHeaders(h)
	srv.handler = h
	return srv, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Flush writes what the server holds in memory now: its rate-limit and quota counts and
// the request logs waiting to be written.
func (s *Server) Flush(ctx context.Context) error {
	if s.meter == nil {
		return nil
	}
	return errors.Join(s.meter.Sync(ctx), s.logs.Flush(ctx))
}

// Close stops the background writers after writing what they hold, and lets the MCP
// plug-ins finish (the recorder writes its open sessions). Call it once the HTTP server has
// drained, before closing the store; calling it again does nothing more.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	s.closing.Do(func() {
		for _, c := range s.closers {
			errs = append(errs, c(ctx))
		}
	})
	if s.meter != nil {
		errs = append(errs, s.meter.Close(ctx), s.logs.Close(ctx))
	}
	return errors.Join(errs...)
}

// needsKey reports whether path serves tenant data and so requires an API key.
func needsKey(path string) bool {
	return path == "/mcp" || path == "/v1" || strings.HasPrefix(path, "/v1/")
}

func writeStatus(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(tools.Encode(map[string]string{"status": s}))
}

// writeErr writes a JSON error for requests that never reached a capability.
func writeErr(ctx context.Context, w http.ResponseWriter, e *tools.Error) { rest.WriteError(ctx, w, e) }
