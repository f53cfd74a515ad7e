// Package rest projects the capability registry onto REST routes under /v1 and the
// OpenAPI 3.1 document, with Huma. Every route is the same capability an MCP tool runs:
// path, query and body are merged into the capability's input and validated by the same
// schema, so both surfaces accept and reject the same inputs with the same errors.
package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/relmcrm/relm/tools"
)

// APIVersion is the wire contract version, echoed as the Relm-Version header.
const APIVersion = "2026-07-02"

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// New registers every REST-bound capability of reg on mux and returns the Huma API, which
// also serves /openapi.json and /openapi.yaml (the server's own pages serve /docs).
func New(mux *http.ServeMux, reg *tools.Registry, version string) huma.API {
	cfg := huma.DefaultConfig("Relm API", version)
	cfg.CreateHooks = nil // no injected $schema or Link: REST bodies equal MCP structuredContent
	cfg.SchemasPath = ""
	cfg.DocsPath = "" // Huma's viewer loads a script from a CDN; package docsite serves /docs
	cfg.Info.Description = "Relm is an MCP-first, API-first CRM. Every operation here is also an MCP tool at /mcp, " +
		"with the same input and output schema. Errors are {\"error\":{\"code\",\"message\",...}}; codes are listed in docs/errors.md."
	cfg.Components.Schemas = reg.Schemas.Registry()
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "A Relm API key: sk_live_… or sk_test_…. The key selects the workspace and mode."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	api := humago.New(mux, cfg)

	errRef := reg.Schemas.Of(reflect.TypeFor[tools.ErrorBody]())
	for _, e := range reg.Entries() {
		register(api, reg, e, e.REST, e.Name, errRef)
		for i := range e.Aliases {
			register(api, reg, e, &e.Aliases[i], aliasOperationID(e.Name, i), errRef)
		}
	}
	if err := finishDocument(api, reg); err != nil {
		panic(err) // marshalling schemas the registry built cannot fail
	}
	return api
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// route is how one capability's input is assembled from an HTTP request.
type route struct {
	entry      *tools.Entry
	binding    *tools.Route // e.REST, or one of its aliases
	pathParams []string
	// hidden are the path parameters of the canonical route that an alias leaves out: they
	// keep their defaults and are refused in the query or body.
	hidden     []string
	queryTypes map[string]string // query parameter -> JSON Schema type, for GET and DELETE
	hasBody    bool
	// filterFields are the fields of the capability's structured filter, if it has one:
	// filter[field][op]=value parameters fill it, and so does the shorthand field=value.
	filterFields map[string]bool
	// preconditioned routes take expected_version, which If-Match also gives.
	preconditioned bool
}

// register serves capability e on the REST route b (e.REST or an alias) as operation id.
func register(api huma.API, reg *tools.Registry, e *tools.Entry, b *tools.Route, id string, errRef *huma.Schema) {
	in := reg.Schemas.Resolve(e.In)
	rt := &route{entry: e, binding: b, queryTypes: map[string]string{}}
	op := &huma.Operation{
		OperationID: id,
		Method:      b.Method,
		Path:        b.Path,
		Summary:     e.Title,
		Description: e.Description,
		Tags:        []string{e.Toolset},
		Responses: map[string]*huma.Response{
			strconv.Itoa(b.Status): {Description: "Success", Content: jsonContent(e.Out), Headers: responseHeaders()},
		},
	}
	for _, m := range pathParam.FindAllStringSubmatch(b.Path, -1) {
		rt.pathParams = append(rt.pathParams, m[1])
		op.Parameters = append(op.Parameters, &huma.Param{Name: m[1], In: "path", Required: true,
			Description: in.Properties[m[1]].Description, Schema: in.Properties[m[1]]})
	}
	if b != e.REST {
		rt.hidden = aliasHidden(e.REST.Path, rt.pathParams)
		op.Summary += " (alias)"
		op.Description = aliasDescription(e, rt.hidden) + op.Description
	}
	rest := withoutProps(in, append(slices.Clone(rt.pathParams), rt.hidden...))
	if _, ok := in.Properties[expectedVersion]; ok {
		rt.preconditioned = true
		op.Parameters = append(op.Parameters, ifMatchParam())
	}
	if e.ReturnsRecord() {
		op.Responses[strconv.Itoa(b.Status)].Headers[ETagHeader] = etagHeader()
	}
	switch b.Method {
	case http.MethodGet, http.MethodDelete:
		for _, name := range slices.Sorted(maps.Keys(rest.Properties)) {
			p := rest.Properties[name]
			if name == "filter" {
				spec, _ := e.FilterSpec()
				rt.filterFields = filterFields(spec)
				taken := slices.Concat(slices.Sorted(maps.Keys(rest.Properties)), rt.pathParams, rt.hidden)
				op.Parameters = append(op.Parameters, filterParams(reg, spec, taken)...)
				op.Description += filterDescription(spec)
				continue
			}
			rt.queryTypes[name] = p.Type
			param := &huma.Param{Name: name, In: "query", Description: p.Description,
				Required: slices.Contains(rest.Required, name), Schema: p}
			if p.Type == huma.TypeArray { // comma-separated, as queryValue reads it
				explode := false
				param.Style, param.Explode = "form", &explode
			}
			op.Parameters = append(op.Parameters, param)
		}
	default:
		rt.hasBody = true
		body := e.In
		if len(rt.pathParams)+len(rt.hidden) > 0 {
			body = reg.Schemas.Add(camel(e.Name)+"Body", rest)
		}
		op.RequestBody = &huma.RequestBody{Required: len(rest.Required) > 0, Content: jsonContent(body)}
	}
	if e.AcceptsIdempotencyKey() {
		op.Parameters = append(op.Parameters, idempotencyKeyParam())
	}
	for _, status := range errorStatuses(e, rt) {
		headers := responseHeaders()
		if retry := retryAfterDoc(e, status); retry != "" {
			headers["Retry-After"] = &huma.Param{Description: retry, Schema: &huma.Schema{Type: "integer"}}
		}
		op.Responses[strconv.Itoa(status)] = &huma.Response{Description: http.StatusText(status), Content: jsonContent(errRef), Headers: headers}
	}
	api.OpenAPI().AddOperation(op)
	api.Adapter().Handle(op, rt.serve)
}

// serve runs the capability for one HTTP request.
func (rt *route) serve(hctx huma.Context) {
	if rt.serveIdempotent(hctx) {
		return
	}
	ctx := hctx.Context()
	args, body, err := rt.input(hctx)
	var out any
	if err == nil {
		out, err = rt.entry.CallJSON(ctx, body, args)
	}
	if err != nil {
		rt.writeError(hctx, err)
		return
	}
	setETag(hctx, out)
	writeJSON(hctx, rt.binding.Status, tools.Encode(out))
}

// input merges path parameters, query parameters and the JSON body into one argument object.
// A path parameter that cannot name anything is not_found before anything else is read:
// the URL names nothing. body is the JSON body when the arguments are exactly what it
// decoded to, nothing merged in (for Entry.CallJSON), else nil.
func (rt *route) input(hctx huma.Context) (args map[string]any, body []byte, _ *tools.Error) {
	for _, p := range rt.pathParams {
		if err := rt.entry.PathNotFound(p, hctx.Param(p)); err != nil {
			return nil, nil, err
		}
	}
	args = map[string]any{}
	bodyKeys := -1
	if rt.hasBody {
		raw, err := io.ReadAll(hctx.BodyReader())
		if err != nil {
			return nil, nil, BodyReadError(err)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			if ct := hctx.Header("Content-Type"); ct != "" && ct != "application/json" {
				if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
					return nil, nil, tools.NewError(tools.CodeUnsupportedMedia, "Send the body as JSON with Content-Type: application/json (got %q).", ct)
				}
			}
		}
		decoded, derr := tools.DecodeArgs(raw)
		if derr != nil {
			return nil, nil, derr
		}
		var dup []string
		for k := range decoded {
			if slices.Contains(rt.pathParams, k) {
				dup = append(dup, k)
			}
		}
		if len(dup) > 0 {
			e := tools.NewError(tools.CodeBadRequest, "%s is taken from the URL path; remove it from the body.", strings.Join(dup, ", "))
			e.Param = dup[0]
			return nil, nil, e
		}
		args, body, bodyKeys = decoded, raw, len(decoded)
	}
	u := hctx.URL()
	query := u.Query()
	if rt.filterFields != nil {
		var ferr *tools.Error
		if query, ferr = rt.filter(query, args); ferr != nil {
			return nil, nil, ferr
		}
	}
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if err := rt.checkQueryParameter(name); err != nil {
			return nil, nil, err
		}
		vals := query[name]
		if len(vals) > 1 {
			e := tools.NewError(tools.CodeBadRequest, "Query parameter %s is given %d times; give it once.", name, len(vals))
			e.Param = name
			return nil, nil, e
		}
		args[name] = queryValue(rt.queryTypes[name], vals[0])
	}
	for _, p := range rt.hidden {
		if _, given := args[p]; given {
			return nil, nil, rt.hiddenError(p)
		}
	}
	for _, p := range rt.pathParams {
		args[p] = hctx.Param(p)
	}
	if err := rt.ifMatch(hctx, args); err != nil {
		return nil, nil, err
	}
	if len(query) > 0 || len(args) != bodyKeys {
		body = nil // merged with the query (which may replace a key), the path or a precondition (which add keys)
	}
	return args, body, nil
}

// checkQueryParameter refuses a query parameter the route does not take, which would
// otherwise be ignored or silently change the input: one naming a path parameter (the
// path gives it), one an alias leaves to its default, and any other the route does not
// declare (a route with a body declares none: its input is the body).
func (rt *route) checkQueryParameter(name string) *tools.Error {
	if _, ok := rt.queryTypes[name]; ok {
		return nil
	}
	if slices.Contains(rt.pathParams, name) {
		e := tools.NewError(tools.CodeBadRequest, "%s is taken from the URL path; remove it from the query string.", name)
		e.Param = name
		return e
	}
	if slices.Contains(rt.hidden, name) {
		return rt.hiddenError(name)
	}
	e := tools.UnknownParameter(name, rt.binding.Method+" "+rt.binding.Path, rt.queryParameters())
	switch {
	case rt.hasBody:
		e.Message += " Send the input as the JSON body."
	case rt.filterFields != nil:
		e.Message += " Filter on any field with filter[field][op]=value."
	}
	return e
}

// queryParameters lists the query parameters the route takes, filter[...] aside: its own
// and, on a list with a filter, every filterable field (field=value is filter[field]=value).
func (rt *route) queryParameters() []string {
	names := slices.Collect(maps.Keys(rt.queryTypes))
	for f := range rt.filterFields {
		if !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	slices.Sort(names)
	return names
}

// hiddenError refuses a parameter that an alias leaves to its default.
func (rt *route) hiddenError(p string) *tools.Error {
	e := tools.NewError(tools.CodeBadRequest, "%s %s leaves %s to its default; to choose it, use %s %s.",
		rt.binding.Method, rt.binding.Path, p, rt.entry.REST.Method, rt.entry.REST.Path)
	e.Param = p
	return e
}

// filter moves filter[...] parameters, and shorthand field=value parameters naming a
// filterable field that is not an input of its own, into args["filter"]; it returns the
// other parameters.
func (rt *route) filter(query url.Values, args map[string]any) (url.Values, *tools.Error) {
	f, rest, ferr := tools.FilterFromQuery(query)
	if ferr != nil {
		return nil, ferr
	}
	for name, vals := range rest {
		if _, own := rt.queryTypes[name]; own || !rt.filterFields[name] || len(vals) != 1 || slices.Contains(rt.pathParams, name) {
			continue
		}
		if _, dup := f[name]; dup {
			e := tools.NewError(tools.CodeInvalidFilter, "%s is given both as %s= and as filter[%s]; give it once.", name, name, name)
			e.Param = name
			return nil, e
		}
		f[name] = vals[0]
		delete(rest, name)
	}
	if len(f) > 0 {
		args["filter"] = f
	}
	return rest, nil
}

// filterFields lists the fields a filter takes.
func filterFields(spec tools.FilterSpec) map[string]bool {
	fields := map[string]bool{}
	for _, f := range spec.Fields {
		fields[f.Name] = true
	}
	return fields
}

// queryValue converts a query string value to the JSON type its schema expects; a value
// that does not convert stays a string and fails validation with a clear message.
func queryValue(typ, v string) any {
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case "number":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	case "array":
		parts := strings.Split(v, ",")
		items := make([]any, len(parts))
		for i, p := range parts {
			items[i] = p
		}
		return items
	}
	return v
}

// BodyReadError explains a request body that could not be read: too large, or cut off.
func BodyReadError(err error) *tools.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tools.NewError(tools.CodeTooLarge, "The request body is larger than %d bytes. Send less data per request.", mbe.Limit)
	}
	return tools.NewError(tools.CodeBadRequest, "The request body could not be read: %v.", err)
}

func writeJSON(hctx huma.Context, status int, body []byte) {
	hctx.SetHeader("Content-Type", "application/json")
	hctx.SetStatus(status)
	_, _ = hctx.BodyWriter().Write(body)
}

// writeError writes a capability's error: its status, its JSON body and, when it says
// when to retry, Retry-After; and reports it as the call's outcome.
func (rt *route) writeError(hctx huma.Context, e *tools.Error) {
	tools.ReportOutcome(hctx.Context(), rt.entry.Name, e.Status, e.Code)
	setRetryAfter(hctx.SetHeader, e.RetryAfter)
	writeJSON(hctx, e.Status, tools.Encode(e.Body(hctx.Context())))
}

// WriteError writes e as the JSON error body, with Retry-After when it says when to retry,
// for failures outside any capability (authentication, metering, unknown routes, panics).
func WriteError(ctx context.Context, w http.ResponseWriter, e *tools.Error) {
	tools.ReportOutcome(ctx, "", e.Status, e.Code)
	setRetryAfter(w.Header().Set, e.RetryAfter)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(tools.Encode(e.Body(ctx)))
}

// setRetryAfter sets Retry-After to seconds, when positive.
func setRetryAfter(set func(name, value string), seconds int) {
	if seconds > 0 {
		set("Retry-After", strconv.Itoa(seconds))
	}
}
