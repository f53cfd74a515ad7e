package filter

import (
	"encoding/json"
	"time"
)

// MetadataField types one metadata key, such as a workspace's custom field: Text, Number,
// Date ("YYYY-MM-DD" strings), Bool, or Enum with its Values. A typed key takes the ops
// of its kind, and its values must parse as that kind.
type MetadataField struct {
	Kind   Kind
	Values []string // Enum only: the allowed values
}

// datePattern is the SQL regular expression a stored date value matches; such strings
// order like the dates they name, so dates compare as text (in the C collation).
const datePattern = `'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`

// typedMetadataCondition compiles one op on the typed metadata key key of the JSONB column
// mc. Equality and in use containment of the typed value (a GIN index on mc serves them);
// numbers compare only numeric JSON values and dates only "YYYY-MM-DD" strings, so values
// stored before the key was typed never make a comparison fail. A range is written so that
// an expression index on that key can serve it beneath row-level security (docs/api.md):
// only leakproof functions in the comparison itself, the type check after it.
func typedMetadataCondition(mc, key string, mf MetadataField, o opValue) (condition, *Error) {
	if !mf.Kind.accepts(o.op) {
		return nil, unknownOp(o, mf.Kind.Ops())
	}
	f := Field{Name: metadataPrefix + key, Kind: mf.Kind, Values: mf.Values}
	switch o.op {
	case Eq, Neq:
		doc, bad := typedDoc(f, key, o.value)
		if bad != nil {
			return nil, invalidValue(o, bad)
		}
		return func(bind func(any) string) string {
			c := mc + " @> " + bind(doc) + "::jsonb"
			if o.op == Neq {
				return "NOT (" + c + ")"
			}
			return c
		}, nil
	case In:
		items, bad := listValues(o.value)
		if bad != nil {
			return nil, invalidValue(o, bad)
		}
		docs := make([]string, len(items))
		for i, item := range items {
			if docs[i], bad = typedDoc(f, key, item); bad != nil {
				return nil, invalidItem(o, i, bad)
			}
		}
		return func(bind func(any) string) string {
			return mc + " @> ANY(" + bind(docs) + "::jsonb[])"
		}, nil
	case Ilike:
		return metadataCondition(mc, key, o)
	}
	v, bad := parseValue(f, o.value)
	if bad != nil {
		return nil, invalidValue(o, bad)
	}
	if mf.Kind == Date {
		day := v.(time.Time).Format(time.DateOnly)
		return func(bind func(any) string) string {
			val := "(" + mc + "->>" + bind(key) + "::text)"
			return "(" + val + ` COLLATE "C" ` + sqlOps[o.op] + " " + bind(day) + "::text AND " + check(val+" ~ "+datePattern) + ")"
		}, nil
	}
	return numberRange(mc, key, o.op, v.(json.Number)), nil
}

// typedDoc is the JSON document {"key": value} a row must contain to equal v, with v read
// as the kind of f: a date as its "YYYY-MM-DD" string, a number as a JSON number.
func typedDoc(f Field, key string, v any) (string, *badValue) {
	val, bad := parseValue(f, v)
	if bad != nil {
		return "", bad
	}
	if t, ok := val.(time.Time); ok {
		val = t.Format(time.DateOnly)
	}
	return metadataDoc(key, val), nil
}
