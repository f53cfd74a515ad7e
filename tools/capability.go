// Package tools defines every Relm capability once, as a typed handler with a name, a
// model-facing description, annotations and a REST route. The registry built
// from them is served over MCP (this package) and REST (package rest).
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"

	"github.com/relmcrm/relm/schemas"
)

// Annotations are the behaviour hints published with a tool.
type Annotations struct {
	ReadOnly    bool // changes nothing
	Destructive bool // may delete or overwrite data
	Idempotent  bool // repeating the same call has no further effect
	OpenWorld   bool // reaches outside Relm (email, webhooks)
}

// Route binds a capability to a REST operation. Path parameters ({id}) and, for GET and
// DELETE, query parameters are fields of the capability's input; for other methods the
// remaining fields form the JSON body.
type Route struct {
	Method string
	Path   string
	Status int
}

// Info is what describes a capability, independent of its types.
type Info struct {
	Name string // tool name, as in the reference: unique, and the MCP name unless MCPName says otherwise
	// MCPName is the name MCP clients call the tool by when it is not Name: the chatgpt
	// toolset's search and fetch, named as ChatGPT expects. A selection never serves two
	// tools of one MCP name (SelectionOf refuses it).
	MCPName     string
	Title       string
	Description string // written for a model: what it is for, its arguments, what comes back
	Toolset     string // group, such as "contacts"
	Annotations Annotations
	REST        *Route // required: every capability is served on both surfaces
	// Aliases are further REST routes serving the same capability, kept for compatibility:
	// same method and status as REST, whose path parameters they may leave out; an input
	// field left out of the path is absent from the input, so it takes its default (such as
	// the default pipeline), and the alias refuses it in the query or body.
	Aliases []Route
	// SecretOutput marks results holding a secret that must never be stored, such as a new
	// API key: such calls take no idempotency key, since replaying needs the stored result.
	SecretOutput bool
	// Transient marks capabilities that keep nothing (preview_change): a replay would have
	// to run them again, so calls take no idempotency key either.
	Transient bool
}

// Capability is one typed operation.
type Capability[In, Out any] struct {
	Info
	Handle func(ctx context.Context, in In) (Out, error)
}

// Tool is a capability with its types erased, as the registry holds it.
type Tool interface {
	info() *Info
	types() (in, out reflect.Type)
	call(ctx context.Context, args []byte) (any, error)
}

func (c *Capability[In, Out]) info() *Info { return &c.Info }

func (c *Capability[In, Out]) types() (reflect.Type, reflect.Type) {
	return reflect.TypeFor[In](), reflect.TypeFor[Out]()
}

// call decodes already-validated arguments into In, numbers exactly, and runs the handler.
func (c *Capability[In, Out]) call(ctx context.Context, args []byte) (any, error) {
	var in In
	if err := schemas.UnmarshalExact(args, &in); err != nil {
		return nil, decodeError(err)
	}
	return c.Handle(ctx, in)
}

// Encode is the one JSON encoding of results and errors, so a REST body and the MCP text
// content of the same result are byte-identical.
func Encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("tools: encode result: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// jsonRaw marks already-encoded JSON so it is embedded as is.
type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }
