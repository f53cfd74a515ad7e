package filter

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// condition is one checked field/op pair: it writes its SQL, binding its values through bind.
type condition func(bind func(any) string) string

// opValue is one op applied to a field, with the REST parameter that stands for it.
type opValue struct {
	op    Op
	value any
	param string
}

// sqlOps are the SQL comparison operators of the ops that compare one value.
var sqlOps = map[Op]string{
	Eq:    "=",
	Neq:   "IS DISTINCT FROM",
	Gt:    ">",
	Gte:   ">=",
	Lt:    "<",
	Lte:   "<=",
	Ilike: "ILIKE",
}

// Compile checks a structured filter against s and returns SQL conditions (to be ANDed) whose
// values are all bound through bind, which binds a value and returns its placeholder ("$3").
// Conditions come sorted by field name, then op. Limits: at most 20 conditions in all, at
// most 100 values in an `in`, strings at most 1000 bytes, metadata keys match
// ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$ . Nothing is bound when Compile returns an error.
func (s Spec) Compile(f map[string]any, bind func(any) string) ([]string, *Error) {
	if n := countConditions(f); n > maxConditions {
		return nil, &Error{Param: "filter", Message: fmt.Sprintf(
			"The filter has %d conditions; at most %d are allowed.", n, maxConditions)}
	}
	var conds []condition
	for _, name := range slices.Sorted(maps.Keys(f)) {
		cs, err := s.fieldConditions(name, f[name])
		if err != nil {
			return nil, err
		}
		conds = append(conds, cs...)
	}
	sql := make([]string, len(conds))
	for i, c := range conds {
		sql[i] = c(bind)
	}
	return sql, nil
}

// countConditions counts the field/op pairs of f without checking them.
func countConditions(f map[string]any) int {
	n := 0
	for _, v := range f {
		if ops, ok := v.(map[string]any); ok && len(ops) > 0 {
			n += len(ops)
		} else {
			n++
		}
	}
	return n
}

// fieldConditions checks the value given for the field name and returns its conditions.
func (s Spec) fieldConditions(name string, v any) ([]condition, *Error) {
	compile, err := s.fieldCompiler(name)
	if err != nil {
		return nil, err
	}
	ops, err := splitOps(name, v)
	if err != nil {
		return nil, err
	}
	conds := make([]condition, len(ops))
	for i, o := range ops {
		if conds[i], err = compile(o); err != nil {
			return nil, err
		}
	}
	return conds, nil
}

// fieldCompiler returns what compiles one op on the field name: a Spec field or a metadata key.
func (s Spec) fieldCompiler(name string) (func(opValue) (condition, *Error), *Error) {
	if f, ok := s.field(name); ok {
		return func(o opValue) (condition, *Error) { return columnCondition(f, o) }, nil
	}
	if key, ok := strings.CutPrefix(name, metadataPrefix); ok && s.MetadataColumn != "" {
		if !metadataKey.MatchString(key) {
			return nil, &Error{Param: FieldParam(name), Message: fmt.Sprintf(
				"Metadata key %s is not valid: keys are 1 to 64 letters, digits, _ . or -, starting with a letter, digit or _.", Quote(key))}
		}
		if mf, typed := s.MetadataFields[key]; typed {
			return func(o opValue) (condition, *Error) { return typedMetadataCondition(s.MetadataColumn, key, mf, o) }, nil
		}
		return func(o opValue) (condition, *Error) { return metadataCondition(s.MetadataColumn, key, o) }, nil
	}
	names := s.names()
	return nil, &Error{Param: FieldParam(name), ValidOptions: names, Message: fmt.Sprintf(
		"Unknown filter field %s; filter on one of: %s.", Quote(name), strings.Join(names, ", "))}
}

// splitOps reads the value of a field: a bare value means eq, an object maps ops to values.
// The ops come sorted.
func splitOps(name string, v any) ([]opValue, *Error) {
	switch x := v.(type) {
	case nil:
		return nil, &Error{Param: FieldParam(name), Message: fmt.Sprintf(
			`%s has no value; give a value, or an object of op to value such as {"gte": 1}.`, FieldParam(name))}
	case []any, []string:
		return nil, &Error{Param: FieldParam(name), Message: fmt.Sprintf(
			`%s is a list; to match any of several values write {"in": [...]}.`, FieldParam(name))}
	case map[string]any:
		if len(x) == 0 {
			return nil, &Error{Param: FieldParam(name), Message: fmt.Sprintf(
				`%s is an empty object; give at least one op, such as {"eq": ...}.`, FieldParam(name))}
		}
		ops := make([]opValue, 0, len(x))
		for _, op := range slices.Sorted(maps.Keys(x)) {
			ops = append(ops, opValue{op: Op(op), value: x[op], param: OpParam(name, Op(op))})
		}
		return ops, nil
	}
	return []opValue{{op: Eq, value: v, param: FieldParam(name)}}, nil
}

// unknownOp reports an op the field does not take.
func unknownOp(o opValue, ops []Op) *Error {
	valid := opStrings(ops)
	return &Error{Param: o.param, ValidOptions: valid, Message: fmt.Sprintf(
		"Unknown filter op %s in %s; use one of: %s.", Quote(string(o.op)), o.param, strings.Join(valid, ", "))}
}

// invalidValue reports a value rejected for the reason bad.
func invalidValue(o opValue, bad *badValue) *Error {
	return &Error{Param: o.param, ValidOptions: bad.options, Message: o.param + " " + bad.must + "."}
}

// invalidItem reports the item at index i of an in list, rejected for the reason bad.
func invalidItem(o opValue, i int, bad *badValue) *Error {
	return &Error{Param: o.param, ValidOptions: bad.options, Message: fmt.Sprintf(
		"Item %d of %s %s.", i+1, o.param, bad.must)}
}

// columnCondition compiles one op on a Spec field.
func columnCondition(f Field, o opValue) (condition, *Error) {
	if !f.Kind.accepts(o.op) {
		return nil, unknownOp(o, f.Kind.Ops())
	}
	if o.op == In {
		return columnIn(f, o)
	}
	val, bad := parseValue(f, o.value)
	if bad == nil && o.op == Ilike {
		bad = checkPattern(val.(string))
	}
	if bad != nil {
		return nil, invalidValue(o, bad)
	}
	return func(bind func(any) string) string {
		col, p := f.Column, bind(val)+cast(f.Kind)
		if f.Kind == CIText {
			col = "lower(" + col + ")"
			if o.op != Ilike {
				p = "lower(" + p + ")"
			}
		}
		return col + " " + sqlOps[o.op] + " " + p
	}, nil
}

// columnIn compiles an in on a Spec field: one bound array of the field's type.
func columnIn(f Field, o opValue) (condition, *Error) {
	items, bad := listValues(o.value)
	if bad != nil {
		return nil, invalidValue(o, bad)
	}
	vals := make([]any, len(items))
	for i, item := range items {
		if vals[i], bad = parseValue(f, item); bad != nil {
			return nil, invalidItem(o, i, bad)
		}
	}
	list := typedList(f.Kind, vals)
	return func(bind func(any) string) string {
		col := f.Column
		if f.Kind == CIText {
			col = "lower(" + col + ")"
		}
		return col + " = ANY(" + bind(list) + arrayCast(f.Kind) + ")"
	}, nil
}

// typedList turns parsed values of kind k into the slice bound for an in: []string (lower
// case for CIText), []int64 or []time.Time.
func typedList(k Kind, vals []any) any {
	switch k {
	case Integer:
		return convertAll[int64](vals)
	case Date, Timestamp:
		return convertAll[time.Time](vals)
	}
	strs := convertAll[string](vals)
	if k == CIText {
		for i, s := range strs {
			strs[i] = strings.ToLower(s)
		}
	}
	return strs
}

// convertAll asserts every value to T; parseValue guarantees the type.
func convertAll[T any](vals []any) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = v.(T)
	}
	return out
}

// cast is the SQL cast a placeholder for one value of kind k gets, so the bound value has a
// type of its own whatever the column expression is.
func cast(k Kind) string {
	switch k {
	case Integer:
		return "::bigint"
	case Date:
		return "::date"
	case Timestamp:
		return "::timestamptz"
	}
	return ""
}

// arrayCast is the SQL cast a placeholder for an in list of kind k gets.
func arrayCast(k Kind) string {
	if c := cast(k); c != "" {
		return c + "[]"
	}
	return ""
}

// checkPattern rejects an ilike pattern PostgreSQL would refuse: one ending in a lone
// backslash, its escape character.
func checkPattern(p string) *badValue {
	trailing := len(p) - len(strings.TrimRight(p, `\`))
	if trailing%2 == 1 {
		return reject(`must not end with a lone backslash (write \\ to match a backslash)`)
	}
	return nil
}
