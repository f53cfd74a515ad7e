package evals

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/invopop/jsonschema"
)

// The transcript schema is reflected from the Go types by invopop/jsonschema: struct tags
// carry descriptions, patterns, enums and bounds; the parts of the format that take JSON of
// several shapes (argument templates, {"$ref"}, {"$literal"}, expected values with their
// matchers, error expectations, captures) are the *Schema types below, each describing
// itself in a JSONSchema method. transcript.schema.json holds the result and TestSchemaFile
// fails when it drifts from the types.

//go:generate go test -run=TestSchemaFile -update .

// SchemaID is the $id of the transcript schema, where relm serve publishes it.
const SchemaID = "https://relm.dev/schemas/eval-transcript.json"

// captureName is what a capture may be called, and what {{name}} and {"$ref": name} refer to.
const captureName = `[A-Za-z_][A-Za-z0-9_]*`

// generateSchema reflects the transcript schema from the Go types, as transcript.schema.json
// holds it.
func generateSchema() []byte {
	root := schemaReflector(true).Reflect(&Transcript{})
	// Types that only JSONSchema methods refer to are not reached by reflection.
	for _, part := range []any{refSchema{}, literalSchema{}, matcherSchema{}, captureNameSchema{}, pathSchema{}} {
		maps.Copy(root.Definitions, schemaReflector(false).Reflect(part).Definitions)
	}
	root.ID = SchemaID
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic("evals: marshal the transcript schema: " + err.Error())
	}
	return append(out, '\n')
}

// schemaReflector reflects Go types into schemas whose $defs are named after the types:
// Step is step, patternSchema is pattern. expanded puts the reflected type at the root.
func schemaReflector(expanded bool) *jsonschema.Reflector {
	return &jsonschema.Reflector{
		Anonymous:      true, // the root gets SchemaID
		ExpandedStruct: expanded,
		Namer: func(t reflect.Type) string {
			name := strings.TrimSuffix(t.Name(), "Schema")
			if name == "" {
				return "" // unnamed types are inlined
			}
			r, size := utf8.DecodeRuneInString(name)
			return string(unicode.ToLower(r)) + name[size:]
		},
	}
}

// JSONSchemaExtend gives the schema its title and description, and lets a transcript name
// its schema for editors.
func (Transcript) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Title = "Relm eval transcript"
	s.Description = "One agent session against Relm's MCP server: ordered tool calls with expectations on their results, replayed by `relm eval`. See evals/README.md."
	s.Properties.Set("$schema", &jsonschema.Schema{Type: "string", Description: "Optional path or URL of this schema, for editors."})
	_ = s.Properties.MoveToFront("$schema")
}

// JSONSchemaProperty describes the fields whose Go types say less than their JSON.
func (Step) JSONSchemaProperty(prop string) any {
	switch prop {
	case "arguments":
		return map[string]argumentSchema{}
	case "capture":
		return capturesSchema{}
	}
	return nil
}

// JSONSchemaExtend makes a step exactly one request: a tool call, a resource read, a prompt
// or a completion.
func (Step) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Description = "One MCP request: a tool call (tool), or a resource read (resource), a prompt (prompt) or an argument completion (complete)."
	s.OneOf = exactlyOne("tool", "resource", "prompt", "complete")
}

// JSONSchemaExtend makes a completion name exactly one prompt or resource template.
func (Completion) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Description = "A completion/complete request for an argument of a prompt or of a resource template."
	s.OneOf = exactlyOne("prompt", "resource")
}

// exactlyOne is a oneOf requiring one of the properties names.
func exactlyOne(names ...string) []*jsonschema.Schema {
	out := make([]*jsonschema.Schema, len(names))
	for i, n := range names {
		out[i] = &jsonschema.Schema{Required: []string{n}}
	}
	return out
}

// JSONSchemaProperty describes the fields whose Go types say less than their JSON.
func (Expect) JSONSchemaProperty(prop string) any {
	switch prop {
	case "result":
		return patternSchema{}
	case "error":
		return expectedErrorSchema{}
	}
	return nil
}

// JSONSchemaExtend allows one kind of expectation per step.
func (Expect) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Description = "What the call must return. Omitted: any successful result. At most one of result, error and protocol_error."
	one := uint64(1)
	s.MaxProperties = &one
}

// argumentSchema is an argument value: JSON with {"$ref"} and {"$literal"} objects.
type argumentSchema struct{}

func (argumentSchema) JSONSchema() *jsonschema.Schema {
	s := templateSchema("argument", &jsonschema.Schema{Not: jsonschema.TrueSchema, Description: "matchers ($match) are for expectations, not arguments"})
	s.Description = `An argument value: JSON, with {"$ref"} and {"$literal"} objects and {{name}} interpolation in strings.`
	return s
}

// patternSchema is an expected value: JSON with {"$ref"}, {"$literal"} and {"$match"} objects.
type patternSchema struct{}

func (patternSchema) JSONSchema() *jsonschema.Schema {
	s := templateSchema("pattern", ref("matcher"))
	s.Description = `An expected value: literal JSON (objects match partially, arrays element by element), a {"$ref"}, a {"$literal"} or a {"$match"} matcher.`
	return s
}

// templateSchema is the schema of JSON in which an object with a $ref or a $literal key is
// a captured or a literal value, an object with a $match key must match onMatch, and other
// objects and arrays hold more of the same (the definition named self).
func templateSchema(self string, onMatch *jsonschema.Schema) *jsonschema.Schema {
	objectWith := func(key string, then, otherwise *jsonschema.Schema) *jsonschema.Schema {
		return &jsonschema.Schema{If: &jsonschema.Schema{Type: "object", Required: []string{key}}, Then: then, Else: otherwise}
	}
	nested := &jsonschema.Schema{
		If:   &jsonschema.Schema{Type: "object"},
		Then: &jsonschema.Schema{AdditionalProperties: ref(self)},
		Else: &jsonschema.Schema{If: &jsonschema.Schema{Type: "array"}, Then: &jsonschema.Schema{Items: ref(self)}},
	}
	return objectWith("$ref", ref("ref"), objectWith("$literal", ref("literal"), objectWith("$match", onMatch, nested)))
}

// refSchema is {"$ref": name}: the value captured as name, whatever its type.
type refSchema struct {
	Ref captureNameSchema `json:"$ref"`
}

// literalSchema is {"$literal": value}: value, as it is.
type literalSchema struct {
	Literal any `json:"$literal"`
}

// captureNameSchema is the name of a captured value.
type captureNameSchema struct{}

func (captureNameSchema) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: "^" + captureName + "$"}
}

// pathSchema is where a capture finds its value in a result.
type pathSchema struct{}

func (pathSchema) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: "^(/.*)?$",
		Description: `"" is the whole result; /data/0/id a JSON Pointer; /data[email=ada@example.com]/id picks the first list element whose field equals the value.`}
}

// capturesSchema is a step's captures: names and where their values are.
type capturesSchema struct{}

func (capturesSchema) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", PropertyNames: ref("captureName"), AdditionalProperties: ref("path")}
}

// expectedErrorSchema is the error a call must return: a code, or a pattern for the body's
// "error" object.
type expectedErrorSchema struct{}

func (expectedErrorSchema) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "string", Pattern: "^[a-z_]+$"},
		{Type: "object", AdditionalProperties: ref("pattern")},
	}}
}

// matcherSchema is a {"$match": kind, …} object, with the keys its kind allows.
type matcherSchema struct{}

// matcherKinds are the kinds of matcher, what each matches, and the keys it allows besides
// $match (a struct reflected into their schemas).
var matcherKinds = []struct {
	kind, description string
	keys              any
}{
	{"any", "Any value, null included; the field must be present.", struct{}{}},
	{"absent", "The field must not be present.", struct{}{}},
	{"string", "Any string.", stringMatch{}},
	{"number", "Any number, within min and max when given.", numberMatch{}},
	{"id", "A Relm id: a prefix and 26 lower-case base32 characters.", idMatch{}},
	{"timestamp", "An RFC 3339 timestamp.", struct{}{}},
	{"date", "A YYYY-MM-DD date.", struct{}{}},
	{"array", "An array, with optional conditions.", arrayMatch{}},
}

type stringMatch struct {
	Pattern  string `json:"pattern,omitempty" jsonschema:"format=regex" jsonschema_description:"RE2 regular expression the string must match."`
	Contains string `json:"contains,omitempty" jsonschema_description:"Text the string must contain ({{name}} allowed)."`
}

type numberMatch struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

type idMatch struct {
	Prefix string `json:"prefix,omitempty" jsonschema:"pattern=^[a-z]+_$" jsonschema_description:"Id prefix such as con_."`
}

type arrayMatch struct {
	Len      *int          `json:"len,omitempty" jsonschema:"minimum=0" jsonschema_description:"Exact number of elements."`
	MinLen   *int          `json:"min_len,omitempty" jsonschema:"minimum=0"`
	MaxLen   *int          `json:"max_len,omitempty" jsonschema:"minimum=0"`
	Contains patternSchema `json:"contains,omitempty" jsonschema_description:"A pattern some element must match; a list of patterns, each matched by some element."`
	Each     patternSchema `json:"each,omitempty" jsonschema_description:"A pattern every element must match."`
}

func (matcherSchema) JSONSchema() *jsonschema.Schema {
	s := &jsonschema.Schema{
		Type:        "object",
		Required:    []string{"$match"},
		Description: "Matches values that differ from run to run, or only some aspect of a value.",
		Properties:  jsonschema.NewProperties(),
	}
	var kinds []any
	for _, k := range matcherKinds {
		kinds = append(kinds, k.kind)
		keys := schemaReflector(true).Reflect(k.keys)
		keys.Version, keys.Definitions, keys.Type = "", nil, "" // refs resolve in the transcript schema
		keys.Description = k.description
		keys.Properties.Set("$match", jsonschema.TrueSchema)
		_ = keys.Properties.MoveToFront("$match")
		kind := jsonschema.NewProperties()
		kind.Set("$match", &jsonschema.Schema{Const: k.kind})
		s.AllOf = append(s.AllOf, &jsonschema.Schema{If: &jsonschema.Schema{Properties: kind}, Then: keys})
	}
	s.Properties.Set("$match", &jsonschema.Schema{Enum: kinds})
	return s
}

func ref(def string) *jsonschema.Schema { return &jsonschema.Schema{Ref: "#/$defs/" + def} }
