package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeArgs parses a JSON object of arguments the way every surface must: numbers stay
// exact (json.Number), an object may not give a key twice (at any depth, however the key
// is escaped), and strings must be text (a \u escape of a lone UTF-16 surrogate, which
// encoding/json would silently turn into U+FFFD, is refused). Empty input, or null, means
// no arguments.
func DecodeArgs(raw []byte) (map[string]any, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return map[string]any{}, nil
	}
	if err := checkRaw(raw); err != nil {
		return nil, err
	}
	d := argDecoder{data: raw}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.skipSpace(); d.i < len(d.data) {
		return nil, NewError(CodeBadRequest, "The input has data after the JSON object. Send exactly one JSON object.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, NewError(CodeBadRequest, "The input must be a JSON object, not %s.", jsonKind(v))
	}
	return obj, nil
}

// argDecoder is a single-pass JSON parser building the values encoding/json would build
// with UseNumber, that also knows where it is (path) to name the field at fault.
type argDecoder struct {
	data  []byte
	i     int
	path  []pathPart // the keys and indexes leading to the value being read
	inKey bool       // reading an object key (of the object at path)
	buf   []byte     // scratch for strings with escapes
}

// pathPart is one step of a path: an object key, or an array index when key is "".
type pathPart struct {
	key   string
	index int
}

// where is the dotted path of the value being read, as errors name fields ("metadata.plan").
func (d *argDecoder) where() string {
	var b strings.Builder
	for i, p := range d.path {
		if i > 0 {
			b.WriteByte('.')
		}
		if p.key != "" || p.index < 0 {
			b.WriteString(p.key)
		} else {
			b.WriteString(strconv.Itoa(p.index))
		}
	}
	return b.String()
}

func (d *argDecoder) syntaxError(format string, args ...any) *Error {
	return NewError(CodeBadRequest, "The input is not valid JSON (%s at offset %d). Send a JSON object.", fmt.Sprintf(format, args...), d.i)
}

// unexpected reports the byte at the current offset, or the end of the input.
func (d *argDecoder) unexpected(context string) *Error {
	if d.i >= len(d.data) {
		return d.syntaxError("unexpected end of input %s", context)
	}
	r, _ := utf8.DecodeRune(d.data[d.i:])
	return d.syntaxError("invalid character %q %s", r, context)
}

func (d *argDecoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value reads the value at the current offset, depth levels of objects and arrays deep.
func (d *argDecoder) value(depth int) (any, *Error) {
	if depth > MaxNesting {
		return nil, nestingError(d.where())
	}
	d.skipSpace()
	if d.i >= len(d.data) {
		return nil, d.unexpected("looking for a value")
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.unexpected("looking for a value")
}

func (d *argDecoder) object(depth int) (any, *Error) {
	d.i++ // {
	m := map[string]any{}
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return nil, d.unexpected("looking for an object key")
		}
		d.inKey = true
		key, err := d.string()
		d.inKey = false
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return nil, d.unexpected("after an object key")
		}
		d.i++
		d.path = append(d.path, pathPart{key: key, index: -1})
		if _, dup := m[key]; dup {
			e := NewError(CodeBadRequest, "The input gives the key %s more than once. Give each key once: which value was meant cannot be guessed.", d.where())
			e.Param = d.where()
			return nil, e
		}
		v, err := d.value(depth + 1)
		d.path = d.path[:len(d.path)-1]
		if err != nil {
			return nil, err
		}
		m[key] = v
		d.skipSpace()
		if d.i < len(d.data) {
			switch d.data[d.i] {
			case ',':
				d.i++
				continue
			case '}':
				d.i++
				return m, nil
			}
		}
		return nil, d.unexpected("after an object value")
	}
}

func (d *argDecoder) array(depth int) (any, *Error) {
	d.i++ // [
	a := []any{}
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		d.path = append(d.path, pathPart{index: len(a)})
		v, err := d.value(depth + 1)
		d.path = d.path[:len(d.path)-1]
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.i < len(d.data) {
			switch d.data[d.i] {
			case ',':
				d.i++
				continue
			case ']':
				d.i++
				return a, nil
			}
		}
		return nil, d.unexpected("after an array element")
	}
}

func (d *argDecoder) literal(word string) *Error {
	if !bytes.HasPrefix(d.data[d.i:], []byte(word)) {
		return d.unexpected("looking for a value")
	}
	d.i += len(word)
	return nil
}

// number reads a number in JSON's syntax as a json.Number holding its literal.
func (d *argDecoder) number() (any, *Error) {
	start := d.i
	if d.data[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.data) && d.data[d.i] == '0':
		d.i++
	case d.i < len(d.data) && d.data[d.i] >= '1' && d.data[d.i] <= '9':
		d.digits()
	default:
		return nil, d.unexpected("in a number")
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return nil, d.unexpected("after the decimal point of a number")
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return nil, d.unexpected("in the exponent of a number")
		}
	}
	return json.Number(d.data[start:d.i]), nil
}

// digits skips decimal digits and says how many there were.
func (d *argDecoder) digits() int {
	start := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// string reads a string (the input is known to be UTF-8), decoding its escapes.
func (d *argDecoder) string() (string, *Error) {
	d.i++ // "
	start := d.i
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case c == '"':
			s := string(d.data[start:d.i])
			d.i++
			return s, nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return "", d.syntaxError("control character %U in a string (escape it)", rune(c))
		}
		d.i++
	}
	return "", d.unexpected("in a string")
}

// escapedString finishes reading a string that started at start and has an escape at the
// current offset.
func (d *argDecoder) escapedString(start int) (string, *Error) {
	d.buf = append(d.buf[:0], d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(d.buf), nil
		case c < 0x20:
			return "", d.syntaxError("control character %U in a string (escape it)", rune(c))
		case c != '\\':
			d.buf = append(d.buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.data) {
			break
		}
		switch e := d.data[d.i+1]; e {
		case '"', '\\', '/':
			d.buf = append(d.buf, e)
		case 'b':
			d.buf = append(d.buf, '\b')
		case 'f':
			d.buf = append(d.buf, '\f')
		case 'n':
			d.buf = append(d.buf, '\n')
		case 'r':
			d.buf = append(d.buf, '\r')
		case 't':
			d.buf = append(d.buf, '\t')
		case 'u':
			r, err := d.unicodeEscape()
			if err != nil {
				return "", err
			}
			d.buf = utf8.AppendRune(d.buf, r)
			continue
		default:
			d.i++
			return "", d.syntaxError("invalid escape \\%c in a string", rune(e))
		}
		d.i += 2
	}
	return "", d.unexpected("in a string")
}

// unicodeEscape reads \uXXXX at the current offset, or a surrogate pair \uXXXX\uXXXX,
// as one character. A surrogate that is not half of a pair encodes no character: it is
// refused as not valid text.
func (d *argDecoder) unicodeEscape() (rune, *Error) {
	r, ok := d.hex4(d.i + 2)
	if !ok {
		return 0, d.syntaxError("invalid \\u escape in a string")
	}
	d.i += 6
	if !utf16.IsSurrogate(r) {
		return r, nil
	}
	if r < 0xDC00 && d.i+1 < len(d.data) && d.data[d.i] == '\\' && d.data[d.i+1] == 'u' {
		if low, ok := d.hex4(d.i + 2); ok {
			if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
				d.i += 6
				return pair, nil
			}
		}
	}
	return 0, d.loneSurrogate(r)
}

// hex4 reads four hex digits at offset at.
func (d *argDecoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (d *argDecoder) loneSurrogate(r rune) *Error {
	path := d.where()
	what := "The value of " + orRoot(path)
	if d.inKey {
		what = "An object key at " + orRoot(path)
	}
	e := NewError(CodeBadRequest, "%s is not valid text: \\u%04x is half of a UTF-16 surrogate pair without its other half. "+
		"Send text as UTF-8, or escape characters outside the Basic Multilingual Plane as a complete pair.", what, r)
	e.Param = path
	return e
}
