package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/schemas"
)

// FieldsArg is the argument of get and list tools that selects the fields of their records.
const FieldsArg = "fields"

// alwaysSelected are the fields a selection always returns.
var alwaysSelected = []string{"id", "object"}

// Fields selects which fields of record type T a get or list tool returns (issue 22: responses
// that fit). The handler may ignore it: Entry.Call applies it to the result.
type Fields[T any] []string

// Schema is an array of T's field names, each at most once.
func (Fields[T]) Schema(huma.Registry) *huma.Schema {
	names := fieldNames(reflect.TypeFor[T]())
	enum := make([]any, len(names))
	for i, n := range names {
		enum[i] = n
	}
	one := 1
	return &huma.Schema{Type: huma.TypeArray, MinItems: &one, UniqueItems: true,
		Description: "Return only these fields (id and object always); default: all.",
		Items:       &huma.Schema{Type: huma.TypeString, Enum: enum}}
}

// Has reports whether the selection returns field f: always when nothing is selected.
func (f Fields[T]) Has(field string) bool {
	return len(f) == 0 || slices.Contains(alwaysSelected, field) || slices.Contains(f, field)
}

// fieldNames are the JSON names of the fields of struct type t, embedded structs flattened.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			names = append(names, fieldNames(f.Type)...)
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	return names
}

// fieldsKey carries the fields a list call selects, so its page is measured as sent.
type fieldsKey struct{}

// selectionOf is the selection of the call of ctx, nil when it selects none.
func selectionOf(ctx context.Context) []string {
	s, _ := ctx.Value(fieldsKey{}).([]string)
	return s
}

// selectionArg reads the validated fields argument: nil when absent.
func selectionArg(args map[string]any) []string {
	raw, ok := args[FieldsArg].([]any)
	if !ok {
		return nil
	}
	keep := slices.Clone(alwaysSelected)
	for _, v := range raw {
		if s, ok := v.(string); ok && !slices.Contains(keep, s) {
			keep = append(keep, s)
		}
	}
	return keep
}

// selectFields returns res with only the fields keep: each item of a list, or the record.
func selectFields(res any, keep []string) any {
	if l, ok := res.(interface{ selectItems([]string) any }); ok {
		return l.selectItems(keep)
	}
	return selectRecord(res, keep)
}

func (l List[T]) selectItems(keep []string) any {
	data := make([]any, len(l.Data))
	for i, item := range l.Data {
		data[i] = selectRecord(item, keep)
	}
	return List[any]{Object: l.Object, Data: data, HasMore: l.HasMore, NextCursor: l.NextCursor}
}

func selectRecord(v any, keep []string) any {
	s := selected{v: v, keep: keep}
	if r, ok := v.(Versioned); ok {
		return selectedVersioned{s, r}
	}
	return s
}

// selected is a record encoded with only the fields keep, in their usual order.
type selected struct {
	v    any
	keep []string
}

// selectedVersioned is a selected record that still names its version (the REST ETag).
type selectedVersioned struct {
	selected
	Versioned
}

func (s selected) MarshalJSON() ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(Encode(s.v)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("tools: select fields of %T: not an object", s.v)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if !slices.Contains(s.keep, key) {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(Encode(key))
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (s selectedVersioned) MarshalJSON() ([]byte, error) { return s.selected.MarshalJSON() }

// partialOutput returns the output schema of a tool that selects fields: its record (out
// itself or, for a list, its items) requires only id and object, so a selection is valid
// against it. Other properties keep their schemas; the derived schemas are named Partial….
func (r *Registry) partialOutput(out *huma.Schema) *huma.Schema {
	s := r.Schemas.Resolve(out)
	data := s.Properties["data"]
	if _, isList := s.Properties["has_more"]; !isList || data == nil || data.Items == nil {
		return r.partial(out)
	}
	arr := *data
	arr.Items = r.partial(data.Items)
	list := *s
	list.Properties = maps.Clone(s.Properties)
	list.Properties["data"] = &arr
	return r.Schemas.Add("ListPartial"+refName(data.Items), &list)
}

// partial is the record schema ref with only id and object required, named Partial<name>.
func (r *Registry) partial(ref *huma.Schema) *huma.Schema {
	name := "Partial" + refName(ref)
	if _, done := r.Schemas.Registry().Map()[name]; done {
		return &huma.Schema{Ref: schemas.RefPrefix + name}
	}
	rec := *r.Schemas.Resolve(ref)
	rec.Required = slices.DeleteFunc(slices.Clone(rec.Required), func(f string) bool { return !slices.Contains(alwaysSelected, f) })
	return r.Schemas.Add(name, &rec)
}

func refName(s *huma.Schema) string { return strings.TrimPrefix(s.Ref, schemas.RefPrefix) }
