package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// Registry is the flat list of every capability with its schemas, from which the MCP
// server, the REST API, the OpenAPI document and the golden files are all built.
type Registry struct {
	Schemas *schemas.Set
	entries []*Entry
	byName  map[string]*Entry
	renamed map[string][]*Entry // entries with an MCPName, by it
	log     *slog.Logger
	// idempotency remembers responses by idempotency key (EnableIdempotency).
	idempotency *store.Store
	// cursors seal and open the cursors of every list (EnableCursors).
	cursors *Cursors
	// email is what the email capabilities need (EnableEmail).
	email *EmailServices
	// publicURL is where people reach the server, for links in results (SetPublicURL).
	publicURL string
	// selections remembers SelectionOf's answers by query; remembered counts them.
	selections sync.Map
	remembered atomic.Int32
}

// Entry is a registered capability with its generated schemas.
type Entry struct {
	Info
	In, Out      *huma.Schema   // named schemas (references) in the registry's Set
	InputSchema  map[string]any // inlined, as published to MCP
	OutputSchema map[string]any
	validator    *schemas.Validator
	tool         Tool
	reg          *Registry
	paged        bool                 // takes a cursor: its calls get a cursor scope
	selects      bool                 // takes fields: its results hold only the fields selected
	pathParams   map[string]pathParam // by name, for PathNotFound
}

// NewRegistry generates and compiles the schemas of every tool.
func NewRegistry(log *slog.Logger, tools ...Tool) (*Registry, error) {
	r := &Registry{Schemas: schemas.NewSet(), byName: map[string]*Entry{}, renamed: map[string][]*Entry{}, log: log}
	for _, t := range tools {
		info := t.info()
		if _, dup := r.byName[info.Name]; dup {
			return nil, fmt.Errorf("tools: %s registered twice", info.Name)
		}
		if info.REST == nil {
			return nil, fmt.Errorf("tools: %s has no REST route", info.Name)
		}
		inT, outT := t.types()
		e := &Entry{Info: *info, tool: t, reg: r, In: r.Schemas.Of(inT), Out: r.Schemas.Of(outT)}
		var err error
		if e.InputSchema, err = r.Schemas.Inline(e.In); err != nil {
			return nil, fmt.Errorf("tools: %s input: %w", info.Name, err)
		}
		props, _ := e.InputSchema["properties"].(map[string]any)
		_, e.paged = props["cursor"]
		if _, e.selects = props[FieldsArg]; e.selects {
			e.Out = r.partialOutput(e.Out)
		}
		if e.OutputSchema, err = r.Schemas.Inline(e.Out); err != nil {
			return nil, fmt.Errorf("tools: %s output: %w", info.Name, err)
		}
		if e.validator, err = schemas.Compile(info.Name, e.InputSchema); err != nil {
			return nil, err
		}
		if err := e.compilePathParams(); err != nil {
			return nil, err
		}
		r.entries = append(r.entries, e)
		r.byName[info.Name] = e
		if info.MCPName != "" {
			r.renamed[info.MCPName] = append(r.renamed[info.MCPName], e)
		}
	}
	return r, nil
}

// Entries returns every capability in registration order.
func (r *Registry) Entries() []*Entry { return r.entries }

// Lookup finds a capability by tool name.
func (r *Registry) Lookup(name string) (*Entry, bool) {
	e, ok := r.byName[name]
	return e, ok
}

// LookupTool finds the capability sel serves as the MCP tool name (see Info.MCPName).
func (r *Registry) LookupTool(sel Selection, name string) (*Entry, bool) {
	if e, ok := r.byName[name]; ok && e.MCPName == "" && sel.includes(e) {
		return e, true
	}
	for _, e := range r.renamed[name] {
		if sel.includes(e) {
			return e, true
		}
	}
	return nil, false
}

// ToolName is the name MCP clients call e by: its MCPName, or else its Name.
func (e *Entry) ToolName() string {
	if e.MCPName != "" {
		return e.MCPName
	}
	return e.Name
}

// Call validates args against the capability's input schema and runs it. Any failure
// comes back as an *Error; unexpected ones are logged with the request id and reported as
// internal_error without detail, or service_unavailable for a database outage. A list's
// cursors are bound here to the caller, the capability and its other arguments.
func (e *Entry) Call(ctx context.Context, args map[string]any) (out any, err *Error) {
	return e.call(ctx, args, nil)
}

// CallJSON is Call for args as DecodeArgs decoded them from raw and left them: the
// capability's typed input is then decoded from raw itself instead of from args encoded
// again, which for a batch of 500 contacts was an eighth of the call. The two decodings
// agree: DecodeArgs refuses what they could differ on (a key given twice), and the schema
// refuses keys the input does not name, which encoding/json would match regardless of case.
func (e *Entry) CallJSON(ctx context.Context, raw []byte, args map[string]any) (out any, err *Error) {
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		raw = nil // no arguments (null or nothing): encoded from args, {}
	}
	return e.call(ctx, args, raw)
}

// call is Call, with the typed input decoded from raw when it is not nil, else from args.
func (e *Entry) call(ctx context.Context, args map[string]any, raw []byte) (out any, err *Error) {
	defer func() {
		if p := recover(); p != nil {
			e.reg.log.ErrorContext(ctx, "panic in capability", "tool", e.Name, "request_id", RequestID(ctx),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, err = nil, internalError()
		}
		if err != nil {
			reportError(ctx, e.Name, err)
		} else {
			ReportOutcome(ctx, e.Name, e.successStatus(), "")
		}
	}()
	if err := e.checkScope(ctx); err != nil {
		return nil, err
	}
	if err := checkLimits(args, "", 0); err != nil {
		return nil, err
	}
	if details := e.validator.Validate(args); details != nil {
		return nil, ValidationFailed(details)
	}
	if raw == nil {
		var merr error
		if raw, merr = json.Marshal(args); merr != nil {
			return nil, NewError(CodeBadRequest, "The input cannot be encoded: %v.", merr)
		}
	}
	if e.paged {
		ctx = e.reg.withCursorScope(ctx, e.Name, args)
	}
	var keep []string
	if e.selects {
		if keep = selectionArg(args); keep != nil {
			ctx = context.WithValue(ctx, fieldsKey{}, keep)
		}
	}
	ctx = context.WithValue(ctx, registryKey{}, e.reg)
	if e.Toolset == "email" || e.Toolset == "webhooks" {
		ctx = context.WithValue(ctx, emailServicesKey{}, e.reg.email)
	}
	res, herr := e.tool.call(ctx, raw)
	if herr != nil {
		var te *Error
		if errors.As(herr, &te) {
			return nil, te
		}
		e.reg.log.ErrorContext(ctx, "capability failed", "tool", e.Name, "request_id", RequestID(ctx), "err", herr)
		return nil, Unexpected(herr, internalMessage)
	}
	if keep != nil {
		res = selectFields(res, keep)
	}
	return res, nil
}

// successStatus is the status a successful call answers on REST.
func (e *Entry) successStatus() int {
	return e.REST.Status
}

// internalMessage is what a caller learns of a fault on our side.
const internalMessage = "Something went wrong on our side. Retry later, and quote the request_id if it keeps happening."

func internalError() *Error { return NewError(CodeInternal, internalMessage) }

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}
