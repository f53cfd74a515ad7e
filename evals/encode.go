package evals

import (
	"bytes"
	"encoding/json"
	"strings"
)

// lineWidth is how wide a JSON value may be to stay on one line of a written transcript.
const lineWidth = 100

// Encode writes t as JSON the way transcripts are kept in the repository: indented by two
// spaces, with every object or list that fits in lineWidth on one line.
func Encode(t *Transcript) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		panic("evals: encode transcript: " + err.Error())
	}
	v, err := decodeOrdered(json.NewDecoder(&buf))
	if err != nil {
		panic("evals: re-read transcript: " + err.Error())
	}
	var out strings.Builder
	writeValue(&out, v, 0)
	out.WriteString("\n")
	return []byte(out.String())
}

// ordered is a JSON object with its keys in their original order.
type ordered []member

type member struct {
	key   string
	value any
}

// decodeOrdered reads one JSON value, keeping object keys in order; scalars stay as
// their JSON text (json.RawMessage).
func decodeOrdered(dec *json.Decoder) (any, error) {
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var obj ordered
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{k.(string), v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token()
		return list, err
	}
	return scalar(tok), nil
}

func scalar(tok json.Token) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(tok) // strings, json.Number, bools and nil always encode
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// compact writes v on one line, with a space after each colon and comma.
func compact(v any) string {
	switch v := v.(type) {
	case ordered:
		parts := make([]string, len(v))
		for i, m := range v {
			parts[i] = string(scalar(m.key)) + ": " + compact(m.value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = compact(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return string(v.(json.RawMessage))
}

func writeValue(b *strings.Builder, v any, depth int) {
	if c := compact(v); len(c)+2*depth <= lineWidth {
		b.WriteString(c)
		return
	}
	pad := strings.Repeat("  ", depth+1)
	switch v := v.(type) {
	case ordered:
		b.WriteString("{\n")
		for i, m := range v {
			b.WriteString(pad + string(scalar(m.key)) + ": ")
			writeValue(b, m.value, depth+1)
			if i < len(v)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(pad[2:] + "}")
	case []any:
		b.WriteString("[\n")
		for i, e := range v {
			b.WriteString(pad)
			writeValue(b, e, depth+1)
			if i < len(v)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(pad[2:] + "]")
	default:
		b.WriteString(compact(v))
	}
}
