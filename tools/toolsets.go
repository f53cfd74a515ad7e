package tools

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Selection narrows the tools an MCP client sees, from its URL:
// /mcp?toolsets=contacts,deals&read_only=true.
type Selection struct {
	Toolsets []string // nil means every toolset
	ReadOnly bool     // only tools that change nothing
}

// Includes reports whether the selection serves e.
func (sel Selection) Includes(e *Entry) bool { return sel.includes(e) }

func (sel Selection) includes(e *Entry) bool {
	return (sel.Toolsets == nil || slices.Contains(sel.Toolsets, e.Toolset)) && (!sel.ReadOnly || e.Annotations.ReadOnly)
}

func (sel Selection) key() string {
	return strings.Join(sel.Toolsets, ",") + "|" + strconv.FormatBool(sel.ReadOnly)
}

type selectionKey struct{}

// WithSelection returns ctx carrying the tool selection of the MCP request it serves, for
// middleware that needs to know what the client sees (the eval recorder).
func WithSelection(ctx context.Context, sel Selection) context.Context {
	return context.WithValue(ctx, selectionKey{}, sel)
}

// SelectionFrom is the selection WithSelection put in ctx; the zero Selection (every tool)
// when there is none.
func SelectionFrom(ctx context.Context) Selection {
	sel, _ := ctx.Value(selectionKey{}).(Selection)
	return sel
}

// Toolsets lists the toolsets of r in registration order.
func (r *Registry) Toolsets() []string {
	var sets []string
	for _, e := range r.entries {
		if !slices.Contains(sets, e.Toolset) {
			sets = append(sets, e.Toolset)
		}
	}
	return sets
}

// ParseSelection reads toolsets and read_only from an MCP URL's query.
func (r *Registry) ParseSelection(req *http.Request) (Selection, *Error) {
	q := req.URL.Query()
	var sel Selection
	if raw := q.Get("toolsets"); raw != "" {
		valid := r.Toolsets()
		for _, name := range strings.Split(raw, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(valid, name) {
				e := NewError(CodeBadRequest, "%q is not a toolset. Connect with ?toolsets= set to some of the valid options, comma-separated.", name)
				e.Param, e.ValidOptions = "toolsets", valid
				e.Suggestion = closest(name, valid)
				return sel, e
			}
			if !slices.Contains(sel.Toolsets, name) {
				sel.Toolsets = append(sel.Toolsets, name)
			}
		}
		slices.Sort(sel.Toolsets)
	}
	if raw := q.Get("read_only"); raw != "" {
		ro, err := strconv.ParseBool(raw)
		if err != nil {
			e := NewError(CodeBadRequest, "read_only must be true or false, not %q.", raw)
			e.Param, e.ValidOptions = "read_only", []string{"true", "false"}
			return sel, e
		}
		sel.ReadOnly = ro
	}
	return sel, nil
}

// NewMCPHandler serves MCP over streamable HTTP, statelessly: any replica can answer any
// request, and tool handlers run in the HTTP request's context (which carries the caller).
// Each distinct selection of toolsets gets its own server, built once by build.
func NewMCPHandler(r *Registry, build func(Selection) *mcp.Server) http.Handler {
	var mu sync.Mutex
	servers := map[string]*mcp.Server{}
	serverFor := func(sel Selection) *mcp.Server {
		mu.Lock()
		defer mu.Unlock()
		s, ok := servers[sel.key()]
		if !ok {
			s = build(sel)
			servers[sel.key()] = s
		}
		return s
	}
	sdk := mcp.NewStreamableHTTPHandler(func(req *http.Request) *mcp.Server {
		sel, _ := r.ParseSelection(req) // already validated below
		return serverFor(sel)
	}, &mcp.StreamableHTTPOptions{Stateless: true, DisableLocalhostProtection: true}) // the server's guard checks Host and Origin
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sel, err := r.ParseSelection(req)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(err.Status)
			_, _ = w.Write(Encode(err.Body(req.Context())))
			return
		}
		sdk.ServeHTTP(w, req.WithContext(WithSelection(req.Context(), sel)))
	})
}
