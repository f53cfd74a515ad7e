package tools

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// CoreTools are the tools /mcp serves when the client names no toolsets: the daily work of
// a CRM (find, read, create and update contacts, companies, deals and activities, move a
// deal, search, read the data model) within the budget of docs/tools.md ("Size"), which
// TestDefaultToolBudget holds. Every other tool is one ?toolsets= away.
var CoreTools = []string{
	"search", "get_schema",
	"list_contacts", "get_contact", "create_contact", "update_contact",
	"list_companies", "get_company", "create_company", "update_company",
	"list_deals", "get_deal", "create_deal", "update_deal", "move_deal_stage",
	"list_activities", "get_activity", "log_activity", "update_activity",
}

// The budget of the default set, CoreTools as DefaultSelection lists them: at most this many
// tools, in at most this many tokens (bytes/4 of the tools/list result the server sends).
// TestDefaultToolBudget holds it; relm bench reports it.
const (
	DefaultToolsBudget  = 25
	DefaultTokensBudget = 8000
)

// OptInToolsets are served only to a client that names them: all, core and the default
// leave them out. chatgpt serves ChatGPT's search and fetch (docs/api.md, "ChatGPT").
var OptInToolsets = []string{"chatgpt"}

// The names a selection may give besides toolsets: core (CoreTools, whatever their toolset)
// and all (every toolset but the opt-in ones).
const (
	CoreToolset = "core"
	AllToolsets = "all"
)

// Selection narrows the tools an MCP client sees, from its URL: /mcp serves the core tools
// (DefaultSelection), /mcp?toolsets=all every tool, and
// /mcp?toolsets=core,webhooks&read_only=true the core tools, the webhooks toolset, and of
// those only the ones that change nothing. The zero Selection is every tool but those of
// OptInToolsets.
type Selection struct {
	Toolsets []string // toolsets served; nil, with Core false, means every toolset but the opt-in ones
	Core     bool     // CoreTools are served too
	// Lean lists the tools without their output schemas, to fit the default budget: the
	// results are the same, described by get_schema and the OpenAPI document.
	Lean     bool
	ReadOnly bool // only tools that change nothing
}

// DefaultSelection is what /mcp serves to a client that names no toolsets.
var DefaultSelection = Selection{Core: true, Lean: true}

// Includes reports whether the selection serves e.
func (sel Selection) Includes(e *Entry) bool { return sel.includes(e) }

func (sel Selection) includes(e *Entry) bool {
	all := sel.Toolsets == nil && !sel.Core && !slices.Contains(OptInToolsets, e.Toolset)
	chosen := all || slices.Contains(sel.Toolsets, e.Toolset) || (sel.Core && slices.Contains(CoreTools, e.Name))
	return chosen && (!sel.ReadOnly || e.Annotations.ReadOnly)
}

// Names are the toolsets of sel as a client names them in ?toolsets= (core among them when
// it serves the core tools); nil for every toolset.
func (sel Selection) Names() []string {
	if !sel.Core {
		return slices.Clone(sel.Toolsets)
	}
	return slices.Sorted(slices.Values(append([]string{CoreToolset}, sel.Toolsets...)))
}

func (sel Selection) key() string {
	return strings.Join(sel.Names(), ",") + "|" + strconv.FormatBool(sel.Lean) + "|" + strconv.FormatBool(sel.ReadOnly)
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
	return r.SelectionOf(q.Get("toolsets"), q.Get("read_only"))
}

// SelectionOf reads a selection as the query parameters toolsets (comma-separated; empty
// for DefaultSelection) and read_only ("true", "false" or empty) give it. Every MCP request
// names its selection again, so what it made of the first maxRememberedSelections distinct
// queries is remembered; a selection's Toolsets are shared and never modified.
func (r *Registry) SelectionOf(toolsets, readOnly string) (Selection, *Error) {
	q := selectionQuery{toolsets, readOnly}
	if got, ok := r.selections.Load(q); ok {
		s := got.(parsedSelection)
		return s.sel, s.err
	}
	sel, err := r.selectionOf(toolsets, readOnly)
	if r.remembered.Load() < maxRememberedSelections {
		if _, loaded := r.selections.LoadOrStore(q, parsedSelection{sel, err}); !loaded {
			r.remembered.Add(1)
		}
	}
	return sel, err
}

// maxRememberedSelections bounds the queries SelectionOf remembers: clients use a few,
// and a client sending endless distinct ones must not grow the server's memory.
const maxRememberedSelections = 256

// selectionQuery is the query SelectionOf reads; parsedSelection what it made of it.
type selectionQuery struct{ toolsets, readOnly string }

type parsedSelection struct {
	sel Selection
	err *Error
}

func (r *Registry) selectionOf(toolsets, readOnly string) (Selection, *Error) {
	sel := DefaultSelection
	if toolsets != "" {
		sel = Selection{}
		valid := append(r.Toolsets(), CoreToolset, AllToolsets)
		all := false
		for _, name := range strings.Split(toolsets, ",") {
			name = strings.TrimSpace(name)
			switch {
			case !slices.Contains(valid, name):
				e := NewError(CodeBadRequest, "%q is not a toolset. Connect with ?toolsets= set to some of the valid options, comma-separated (all for every tool).", name)
				e.Param, e.ValidOptions = "toolsets", valid
				e.Suggestion = closest(name, valid)
				return sel, e
			case name == AllToolsets:
				all = true
			case name == CoreToolset:
				sel.Core = true
			case !slices.Contains(sel.Toolsets, name):
				sel.Toolsets = append(sel.Toolsets, name)
			}
		}
		slices.Sort(sel.Toolsets)
		if all {
			sel = r.everyToolset(sel.Toolsets)
		}
		if err := r.checkClash(sel); err != nil {
			return sel, err
		}
	}
	if readOnly != "" {
		ro, err := strconv.ParseBool(readOnly)
		if err != nil {
			e := NewError(CodeBadRequest, "read_only must be true or false, not %q.", readOnly)
			e.Param, e.ValidOptions = "read_only", []string{"true", "false"}
			return sel, e
		}
		sel.ReadOnly = ro
	}
	return sel, nil
}

// everyToolset is the selection of all with the toolsets named beside it: the zero
// Selection, unless an opt-in toolset is among them.
func (r *Registry) everyToolset(named []string) Selection {
	var optIn []string
	for _, name := range named {
		if slices.Contains(OptInToolsets, name) {
			optIn = append(optIn, name)
		}
	}
	if len(optIn) == 0 {
		return Selection{}
	}
	sets := slices.DeleteFunc(r.Toolsets(), func(s string) bool { return slices.Contains(OptInToolsets, s) && !slices.Contains(optIn, s) })
	slices.Sort(sets)
	return Selection{Toolsets: sets}
}

// checkClash refuses a selection that would serve two tools of one MCP name, such as
// chatgpt beside core, search or all, which serve Relm's own search. Names are unique in
// the registry, so only the MCP names of renamed entries can clash; the check looks at
// those alone, as it runs for every request that names toolsets.
func (r *Registry) checkClash(sel Selection) *Error {
	for _, name := range slices.Sorted(maps.Keys(r.renamed)) {
		var served []*Entry
		if e, ok := r.byName[name]; ok && e.MCPName == "" && sel.includes(e) {
			served = append(served, e)
		}
		for _, e := range r.renamed[name] {
			if sel.includes(e) {
				served = append(served, e)
			}
		}
		if len(served) > 1 {
			a, b := served[0], served[1]
			err := NewError(CodeBadRequest, "These toolsets would serve two tools named %s: %s of the %s toolset and %s of the %s toolset (core and all include "+
				"Relm's own search). Leave one of them out: ChatGPT connects with ?toolsets=chatgpt.", name, a.Name, a.Toolset, b.Name, b.Toolset)
			err.Param = "toolsets"
			return err
		}
	}
	return nil
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
