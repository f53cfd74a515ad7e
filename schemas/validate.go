package schemas

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// FieldError says which input field is wrong and why.
type FieldError struct {
	Field   string   `json:"field" doc:"Dot-separated path of the offending field (empty for the whole input)."`
	Message string   `json:"message" doc:"What is wrong with it and what is expected."`
	Options []string `json:"-"` // for a value outside an enum: the allowed values
	Got     string   `json:"-"` // for a value outside an enum: what was sent
}

// Validator checks a decoded JSON value against one compiled schema.
type Validator struct {
	schema *jsonschema.Schema
	raw    map[string]any // the schema as compiled, for the rules JSON Schema cannot say (blankStrings)
}

var printer = message.NewPrinter(language.English)

// Compile builds a validator for an inlined schema (see Set.Inline). Nothing is ever loaded
// from files or the network, and formats (email, date-time, date) are asserted.
func Compile(name string, schema map[string]any) (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no file:// or http(s):// loading
	url := "relm:///" + name + ".json"
	if err := c.AddResource(url, schema); err != nil {
		return nil, fmt.Errorf("schemas: add %s: %w", name, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schemas: compile %s: %w", name, err)
	}
	return &Validator{schema: sch, raw: schema}, nil
}

// Validate returns one FieldError per problem, sorted by field, or nil when v is valid.
// v must come from encoding/json decoding with UseNumber, or plain json.Unmarshal.
// Beyond the schema, a string the schema requires to be non-empty must not be blank.
func (v *Validator) Validate(value any) []FieldError {
	var out []FieldError
	if err := v.schema.Validate(value); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return []FieldError{{Message: err.Error()}}
		}
		collect(ve, &out)
	}
	blankStrings(v.raw, value, "", &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func collect(ve *jsonschema.ValidationError, out *[]FieldError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collect(c, out)
		}
		return
	}
	field := strings.Join(ve.InstanceLocation, ".")
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, FieldError{Field: JoinField(field, m), Message: "is required"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, FieldError{Field: JoinField(field, p), Message: "is not a known field; remove it or check its spelling"})
		}
	case *kind.Type:
		*out = append(*out, FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", strings.Join(k.Want, " or "), k.Got)})
	case *kind.Format:
		*out = append(*out, FieldError{Field: field, Message: fmt.Sprintf("must be a valid %s", k.Want)})
	case *kind.Enum:
		opts := make([]string, len(k.Want))
		for i, w := range k.Want {
			opts[i] = fmt.Sprint(w)
		}
		*out = append(*out, FieldError{Field: field, Message: "must be one of: " + strings.Join(opts, ", "), Options: opts, Got: fmt.Sprint(k.Got)})
	case *kind.Pattern:
		*out = append(*out, FieldError{Field: field, Message: fmt.Sprintf("has the wrong format: %q does not match %s", k.Got, k.Want)})
	default:
		*out = append(*out, FieldError{Field: field, Message: ve.ErrorKind.LocalizedString(printer)})
	}
}

// JoinField returns the dotted path of child under parent ("" is the top level), as
// FieldError.Field names a field.
func JoinField(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}
