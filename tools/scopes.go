package tools

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// checkScope refuses a call the caller's API key is not scoped for.
func (e *Entry) checkScope(ctx context.Context) *Error {
	c, ok := auth.CallerFrom(ctx)
	write := !e.Annotations.ReadOnly
	if !ok || c.Scopes.Allows(e.Toolset, write) {
		return nil
	}
	need := e.Toolset + ":read"
	if write {
		need = e.Toolset + ":write"
	}
	err := NewError(CodeInsufficientScope, "This API key's scopes (%s) do not allow %s, which needs %s (or %s). Use a key with that scope, "+
		"or ask for one with create_api_key.", c.Scopes, e.Name, need, need[len(e.Toolset)+1:])
	err.Param = "scopes"
	return err
}

// ScopedToolList is MCP middleware leaving out of tools/list the tools the caller's API key
// is not scoped for (a read-only key sees only read-only tools).
func (r *Registry) ScopedToolList(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		list, ok := res.(*mcp.ListToolsResult)
		c, known := auth.CallerFrom(ctx)
		if method != "tools/list" || err != nil || !ok || !known || c.Scopes == auth.Full {
			return res, err
		}
		out := *list
		out.Tools = slices.DeleteFunc(slices.Clone(list.Tools), func(t *mcp.Tool) bool {
			e, found := r.LookupTool(SelectionFrom(ctx), t.Name)
			return found && !c.Scopes.Allows(e.Toolset, !e.Annotations.ReadOnly)
		})
		return &out, nil
	}
}

// Scope is one grant of an API key: read, write, TOOLSET:read or TOOLSET:write.
type Scope string

var scopeGrant = regexp.MustCompile(`^(read|write|[a-z_]+:(read|write))$`)

// Schema is a string of the grant's form.
func (Scope) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Pattern: scopeGrant.String()}
}

// toolsets are the names of every toolset, for checking scopes that name one.
var toolsets = sync.OnceValue(func() []string {
	var sets []string
	for _, t := range allTools(nil) {
		if ts := t.info().Toolset; !slices.Contains(sets, ts) {
			sets = append(sets, ts)
		}
	}
	return sets
})

// allTools is All, which the capabilities' handlers cannot name in their own initialization.
var allTools func(*store.Store) []Tool

func init() { allTools = All }

// ParseScopes checks grants (read, write, TOOLSET:read, TOOLSET:write), as the CLI takes
// them for a key it makes, and joins them into Scopes; none is full access.
func ParseScopes(grants []string) (auth.Scopes, error) {
	in := make([]Scope, len(grants))
	for i, g := range grants {
		if !scopeGrant.MatchString(g) {
			return "", fmt.Errorf("%q is not a scope: use read, write, TOOLSET:read or TOOLSET:write", g)
		}
		in[i] = Scope(g)
	}
	scopes, err := scopesOf(auth.Caller{}, in)
	if err != nil {
		return "", errors.New(err.Message)
	}
	return scopes, nil
}

// scopesOf checks requested grants and joins them into Scopes: each names a known toolset,
// and together they grant no more than the caller's own scopes.
func scopesOf(c auth.Caller, grants []Scope) (auth.Scopes, *Error) {
	if len(grants) == 0 {
		return c.Scopes, nil // a key makes keys with its own access
	}
	var s string
	for i, g := range grants {
		if set, _, scoped := strings.Cut(string(g), ":"); scoped && !slices.Contains(toolsets(), set) {
			e := NewError(CodeValidationFailed, "Invalid input: %q names no toolset. Scope a key to one of valid_options, as TOOLSET:read or TOOLSET:write.", g)
			e.Param, e.ValidOptions = fmt.Sprintf("scopes[%d]", i), toolsets()
			e.Suggestion = closest(set, toolsets())
			return "", e
		}
		s += " " + string(g)
	}
	scopes := auth.Scopes(s).Canonical()
	if !scopes.Within(c.Scopes, toolsets()) {
		e := NewError(CodeInsufficientScope, "A key cannot make a key with more access than its own: this key's scopes are (%s), "+
			"and %q asks for more. Ask for scopes within them.", c.Scopes, scopes)
		e.Param = "scopes"
		return "", e
	}
	return scopes, nil
}
