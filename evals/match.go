package evals

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A pattern is an expected value compiled against the captured values: plain JSON values
// (objects match partially, lists element by element), *literal for exact comparison, and
// *matcher for values that differ per run.
type literal struct{ value any }

// matcher is a compiled {"$match": …} object.
type matcher struct {
	raw              map[string]any // as written, for messages
	kind             string
	prefix, contains string
	re               *regexp.Regexp
	min, max         *big.Rat
	length           [3]*int // len, min_len, max_len
	elementOf        []any   // contains: patterns that some element must match
	each             any     // each: the pattern every element must match
	hasEach          bool
}

// mismatch is the first difference found between a pattern and a value.
type mismatch struct {
	Path     string // JSON Pointer into the result
	Expected any    // the pattern, as written (after interpolation)
	Got      any    // the value, or nil when missing
	Missing  bool   // the field is not there
	Message  string // what is wrong
}

// compilePattern resolves references in an expected value and compiles its matchers.
func (v vars) compilePattern(x any) (any, error) {
	switch x := x.(type) {
	case string:
		r, err := v.interpolate(x)
		if _, isString := r.(string); err == nil && !isString {
			return &literal{r}, nil // a {{ref}} to a non-string value compares exactly
		}
		return r, err
	case map[string]any:
		if name, ok := x["$ref"].(string); ok && len(x) == 1 {
			r, err := v.lookup(name)
			return &literal{r}, err
		}
		if lit, ok := x["$literal"]; ok && len(x) == 1 {
			return &literal{lit}, nil
		}
		if kind, ok := x["$match"].(string); ok {
			return v.compileMatcher(kind, x)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			p, err := v.compilePattern(e)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			p, err := v.compilePattern(e)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	}
	return x, nil
}

func (v vars) compileMatcher(kind string, x map[string]any) (*matcher, error) {
	m := &matcher{raw: x, kind: kind}
	var err error
	str := func(key string) string { s, _ := x[key].(string); return s }
	m.prefix = str("prefix")
	if m.contains, err = v.interpolateString(str("contains")); err != nil {
		return nil, err
	}
	if p := str("pattern"); p != "" {
		if m.re, err = regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("$match %s: pattern %q is not a valid regular expression: %w", kind, p, err)
		}
	}
	for key, dst := range map[string]**big.Rat{"min": &m.min, "max": &m.max} {
		if n, ok := x[key]; ok {
			if *dst = number(n); *dst == nil {
				return nil, fmt.Errorf("$match %s: %s must be a number", kind, key)
			}
		}
	}
	for i, key := range []string{"len", "min_len", "max_len"} {
		if n, ok := x[key]; ok {
			r := number(n)
			if r == nil || !r.IsInt() {
				return nil, fmt.Errorf("$match %s: %s must be an integer", kind, key)
			}
			l := int(r.Num().Int64())
			m.length[i] = &l
		}
	}
	if c, ok := x["contains"]; ok && kind == "array" {
		m.contains = ""
		list, isList := c.([]any)
		if !isList {
			list = []any{c}
		}
		for _, e := range list {
			p, err := v.compilePattern(e)
			if err != nil {
				return nil, err
			}
			m.elementOf = append(m.elementOf, p)
		}
	}
	if e, ok := x["each"]; ok {
		if m.each, err = v.compilePattern(e); err != nil {
			return nil, err
		}
		m.hasEach = true
	}
	return m, nil
}

// match compares got to the compiled pattern pat, at path.
func match(pat, got any, path string) *mismatch {
	switch p := pat.(type) {
	case *literal:
		if !deepEqual(p.value, got) {
			return &mismatch{Path: path, Expected: p.value, Got: got}
		}
		return nil
	case *matcher:
		return p.match(got, path)
	case map[string]any:
		obj, ok := got.(map[string]any)
		if !ok {
			return &mismatch{Path: path, Expected: render(pat), Got: got, Message: "expected an object, got " + kindOf(got)}
		}
		for _, k := range slices.Sorted(maps.Keys(p)) {
			sub := p[k]
			at := path + "/" + escape(k)
			val, present := obj[k]
			if m, ok := sub.(*matcher); ok && m.kind == "absent" {
				if present {
					return &mismatch{Path: at, Expected: m.raw, Got: val, Message: "the field should be absent"}
				}
				continue
			}
			if !present {
				return &mismatch{Path: at, Expected: render(sub), Missing: true, Message: "the field is missing"}
			}
			if mm := match(sub, val, at); mm != nil {
				return mm
			}
		}
		return nil
	case []any:
		list, ok := got.([]any)
		if !ok {
			return &mismatch{Path: path, Expected: render(pat), Got: got, Message: "expected a list, got " + kindOf(got)}
		}
		if len(list) != len(p) {
			return &mismatch{Path: path, Expected: render(pat), Got: got,
				Message: fmt.Sprintf("expected %d elements, got %d", len(p), len(list))}
		}
		for i := range p {
			if mm := match(p[i], list[i], path+"/"+strconv.Itoa(i)); mm != nil {
				return mm
			}
		}
		return nil
	}
	if !deepEqual(pat, got) {
		return &mismatch{Path: path, Expected: pat, Got: got}
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z]+_[a-z2-7]{26}$`)

func (m *matcher) match(got any, path string) *mismatch {
	fail := func(format string, args ...any) *mismatch {
		return &mismatch{Path: path, Expected: m.raw, Got: got, Message: fmt.Sprintf(format, args...)}
	}
	s, isString := got.(string)
	switch m.kind {
	case "any":
		return nil
	case "absent":
		return fail("expected no value")
	case "string":
		if !isString {
			return fail("expected a string, got %s", kindOf(got))
		}
		if m.re != nil && !m.re.MatchString(s) {
			return fail("expected a string matching %s", m.re)
		}
		if m.contains != "" && !strings.Contains(s, m.contains) {
			return fail("expected a string containing %q", m.contains)
		}
	case "number":
		n := number(got)
		if n == nil {
			return fail("expected a number, got %s", kindOf(got))
		}
		if m.min != nil && n.Cmp(m.min) < 0 || m.max != nil && n.Cmp(m.max) > 0 {
			return fail("the number is out of range")
		}
	case "id":
		if !isString || !idPattern.MatchString(s) || m.prefix != "" && s[:len(m.prefix)] != m.prefix {
			return fail("expected an id starting with %s", orDefault(m.prefix, "a prefix such as con_"))
		}
	case "timestamp":
		if _, err := time.Parse(time.RFC3339Nano, s); !isString || err != nil {
			return fail("expected an RFC 3339 timestamp")
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, s); !isString || err != nil {
			return fail("expected a YYYY-MM-DD date")
		}
	case "array":
		return m.matchArray(got, path, fail)
	default:
		return fail("unknown matcher %q", m.kind)
	}
	return nil
}

func (m *matcher) matchArray(got any, path string, fail func(string, ...any) *mismatch) *mismatch {
	list, ok := got.([]any)
	if !ok {
		return fail("expected a list, got %s", kindOf(got))
	}
	n := len(list)
	if l := m.length[0]; l != nil && n != *l {
		return fail("expected %d elements, got %d", *l, n)
	}
	if l := m.length[1]; l != nil && n < *l {
		return fail("expected at least %d elements, got %d", *l, n)
	}
	if l := m.length[2]; l != nil && n > *l {
		return fail("expected at most %d elements, got %d", *l, n)
	}
	for _, p := range m.elementOf {
		if !slices.ContainsFunc(list, func(e any) bool { return match(p, e, "") == nil }) {
			return &mismatch{Path: path, Expected: render(p), Got: got, Message: "no element matches the expected one"}
		}
	}
	if m.hasEach {
		for i, e := range list {
			if mm := match(m.each, e, path+"/"+strconv.Itoa(i)); mm != nil {
				return mm
			}
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// number reads a JSON number (json.Number or float64) exactly, or returns nil.
func number(v any) *big.Rat {
	var s string
	switch n := v.(type) {
	case json.Number:
		s = n.String()
	case float64:
		s = strconv.FormatFloat(n, 'g', -1, 64)
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	default:
		return nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

// deepEqual compares JSON values exactly, numbers by value.
func deepEqual(a, b any) bool {
	if x, y := number(a), number(b); x != nil || y != nil {
		return x != nil && y != nil && x.Cmp(y) == 0
	}
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !deepEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// render turns a compiled pattern back into JSON for messages.
func render(p any) any {
	switch p := p.(type) {
	case *literal:
		return p.value
	case *matcher:
		return p.raw
	case map[string]any:
		out := make(map[string]any, len(p))
		for k, v := range p {
			out[k] = render(v)
		}
		return out
	case []any:
		out := make([]any, len(p))
		for i, v := range p {
			out[i] = render(v)
		}
		return out
	}
	return p
}
