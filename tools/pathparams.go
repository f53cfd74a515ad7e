package tools

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/relmcrm/relm/schemas"
)

// routeParam finds the path parameters ({id}) of a REST route.
var routeParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// pathParam is how a REST path parameter's value is checked.
type pathParam struct {
	validator *schemas.Validator // the schema of the input field it fills
	kind      string             // for an id, the kind of record it names (see kindNames)
}

// compilePathParams compiles, for every path parameter of e's REST routes, the schema of
// the input field it fills, so that PathNotFound can tell a value that cannot name anything.
func (e *Entry) compilePathParams() error {
	props, _ := e.InputSchema["properties"].(map[string]any)
	for _, rt := range append([]Route{*e.REST}, e.Aliases...) {
		for _, m := range routeParam.FindAllStringSubmatch(rt.Path, -1) {
			name := m[1]
			if _, done := e.pathParams[name]; done {
				continue
			}
			schema, ok := props[name].(map[string]any)
			if !ok {
				return fmt.Errorf("tools: %s: path parameter %s is not an input field", e.Name, name)
			}
			v, err := schemas.Compile(e.Name+"."+name, schema)
			if err != nil {
				return err
			}
			if e.pathParams == nil {
				e.pathParams = map[string]pathParam{}
			}
			pattern, _ := schema["pattern"].(string)
			e.pathParams[name] = pathParam{v, kindOfPattern(pattern)}
		}
	}
	return nil
}

// PathNotFound is not_found when value, given in a REST path as parameter param, cannot
// name anything (it has not the shape the parameter requires, such as an id's prefix and
// length, or holds a NUL), and nil otherwise. The URL then names nothing, as with a
// well-formed id that does not exist. A value that is not UTF-8 is left to the input
// checks (bad_request); the same value as an MCP argument or in a body or query stays
// validation_failed, which says precisely what is wrong with it.
func (e *Entry) PathNotFound(param, value string) *Error {
	p, ok := e.pathParams[param]
	if !ok || !utf8.ValidString(value) {
		return nil
	}
	if strings.IndexByte(value, 0) < 0 && p.validator.Validate(value) == nil {
		return nil
	}
	var err *Error
	switch param {
	case "pipeline":
		err = NewError(CodeNotFound, "No pipeline %q exists in this workspace and mode. list_pipelines (GET /v1/pipelines) shows the pipelines.", value)
	case "stage":
		err = NewError(CodeNotFound, "No stage %q exists in this pipeline. list_pipeline_stages shows its stages.", value)
	default:
		kind := p.kind
		if kind == "" {
			err = NewError(CodeNotFound, "Nothing with %s %q exists in this workspace and mode. Check the %s.", param, value, param)
		} else {
			err = NotFound(kind, value)
		}
	}
	err.Param = param
	return err
}
