package docsite

import (
	"reflect"
	"testing"
)

func TestParseMarkdown(t *testing.T) {
	src := "### Title `x` {#anchor}\n\nOne `code` and **strong**\nand a [link](https://example.com), filter[a][b] stays.\n\n" +
		"- item one\n  goes on\n- item two\n\n```json\n{\"a\": 1}\n\n[]\n```\n"
	got := parseMarkdown(src)
	want := []block{
		{Kind: "h3", ID: "anchor", Spans: []span{{Text: "Title "}, {Kind: "code", Text: "x"}}},
		{Kind: "p", Spans: []span{{Text: "One "}, {Kind: "code", Text: "code"}, {Text: " and "}, {Kind: "strong", Text: "strong"},
			{Text: " and a "}, {Kind: "link", Text: "link", Href: "https://example.com"}, {Text: ", filter[a][b] stays."}}},
		{Kind: "ul", Items: [][]span{{{Text: "item one goes on"}}, {{Text: "item two"}}}},
		{Kind: "pre", Lang: "json", Code: "{\"a\": 1}\n\n[]"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMarkdown:\n got %+v\nwant %+v", got, want)
	}
}

func TestSchemaType(t *testing.T) {
	for _, c := range []struct {
		schema map[string]any
		want   string
	}{
		{map[string]any{"type": "string", "format": "date-time"}, "string (date-time)"},
		{map[string]any{"type": []any{"integer", "null"}}, "integer or null"},
		{map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, "array of string"},
		{map[string]any{}, "any"},
	} {
		if got := schemaType(c.schema); got != c.want {
			t.Errorf("schemaType(%v) = %q, want %q", c.schema, got, c.want)
		}
	}
}

func TestSchemaFields(t *testing.T) {
	s := map[string]any{"required": []any{"b"}, "properties": map[string]any{
		"a":      map[string]any{"type": "integer", "minimum": 1.0, "maximum": 200.0, "description": "A."},
		"b":      map[string]any{"type": "string", "enum": []any{"x", "y"}},
		"filter": map[string]any{"type": "object", "properties": map[string]any{"f": map[string]any{}}},
		"rows": map[string]any{"type": "array", "items": map[string]any{"type": "object",
			"properties": map[string]any{"email": map[string]any{"type": "string"}}}},
	}}
	got := schemaFields(s)
	want := []field{
		{Name: "b", Type: "string", Required: true, Constraints: []string{"one of: x, y"}},
		{Name: "a", Type: "integer", Doc: "A.", Constraints: []string{"minimum: 1", "maximum: 200"}},
		{Name: "filter", Type: "object"},
		{Name: "rows", Type: "array of object"},
		{Name: "rows[].email", Type: "string"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("schemaFields:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseChangelogRefusesDisorder(t *testing.T) {
	for _, src := range []string{
		"# C\n\n## 2026-01-01 Old\n\nx\n\n## 2026-02-01 Newer below\n\ny\n",
		"# C\n\n## January Title\n\nx\n",
		"# C\n\n## 2026-01-01 Same\n\nx\n\n## 2026-01-01 Same\n\ny\n",
		"# C\n",
	} {
		if _, err := parseChangelog(src); err == nil {
			t.Errorf("parseChangelog accepted\n%s", src)
		}
	}
}
