package docsite

import (
	"strings"
)

// block is one block of the small Markdown subset the pages' prose is written in:
// headings (## and ###, with an optional {#id}), paragraphs, "- " lists and fenced code.
// Templates render blocks, so html/template escapes every piece of text.
type block struct {
	Kind  string // "h2", "h3", "p", "ul" or "pre"
	ID    string // headings: the anchor
	Spans []span // headings and paragraphs
	Items [][]span
	Code  string // pre: the code, Lang its language
	Lang  string
}

// span is a run of inline text: plain, `code`, **strong** or a [link](href).
type span struct {
	Kind string // "", "code", "strong" or "link"
	Text string
	Href string
}

// parseMarkdown splits src into blocks.
func parseMarkdown(src string) []block {
	var blocks []block
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			i++
		case strings.HasPrefix(line, "```"):
			lang := strings.TrimSpace(strings.TrimPrefix(line, "```"))
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				code = append(code, lines[i])
			}
			i++ // the closing fence
			blocks = append(blocks, block{Kind: "pre", Lang: lang, Code: strings.Join(code, "\n")})
		case strings.HasPrefix(line, "## "), strings.HasPrefix(line, "### "):
			level, text, _ := strings.Cut(line, " ")
			text, id := headingID(text)
			blocks = append(blocks, block{Kind: "h" + string(rune('0'+len(level))), ID: id, Spans: parseInline(text)})
			i++
		case strings.HasPrefix(line, "- "):
			b := block{Kind: "ul"}
			for i < len(lines) && strings.HasPrefix(lines[i], "- ") {
				item := strings.TrimPrefix(lines[i], "- ")
				for i++; i < len(lines) && strings.HasPrefix(lines[i], "  ") && strings.TrimSpace(lines[i]) != ""; i++ {
					item += " " + strings.TrimSpace(lines[i])
				}
				b.Items = append(b.Items, parseInline(item))
			}
			blocks = append(blocks, b)
		default:
			var para []string
			for ; i < len(lines) && startsParagraphLine(lines[i]); i++ {
				para = append(para, strings.TrimSpace(lines[i]))
			}
			blocks = append(blocks, block{Kind: "p", Spans: parseInline(strings.Join(para, " "))})
		}
	}
	return blocks
}

// startsParagraphLine reports whether line continues a paragraph.
func startsParagraphLine(line string) bool {
	return strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "```") && !strings.HasPrefix(line, "- ") &&
		!strings.HasPrefix(line, "## ") && !strings.HasPrefix(line, "### ")
}

// headingID takes a trailing {#id} off a heading, or makes the id from its text.
func headingID(text string) (string, string) {
	if open := strings.LastIndex(text, "{#"); open >= 0 && strings.HasSuffix(text, "}") {
		return strings.TrimSpace(text[:open]), text[open+2 : len(text)-1]
	}
	return text, slug(text)
}

// slug is text as an anchor: lower case letters and digits, words joined by hyphens.
func slug(text string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(text) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
	}
	return b.String()
}

// parseInline splits text into spans: `code`, **strong** and [text](href).
func parseInline(text string) []span {
	var spans []span
	plain := func(s string) {
		if s == "" {
			return
		}
		if n := len(spans); n > 0 && spans[n-1].Kind == "" {
			spans[n-1].Text += s
			return
		}
		spans = append(spans, span{Text: s})
	}
	for text != "" {
		i := strings.IndexAny(text, "`*[")
		if i < 0 {
			plain(text)
			break
		}
		plain(text[:i])
		text = text[i:]
		switch {
		case text[0] == '`':
			if end := strings.IndexByte(text[1:], '`'); end >= 0 {
				spans = append(spans, span{Kind: "code", Text: text[1 : end+1]})
				text = text[end+2:]
				continue
			}
		case strings.HasPrefix(text, "**"):
			if end := strings.Index(text[2:], "**"); end >= 0 {
				spans = append(spans, span{Kind: "strong", Text: text[2 : end+2]})
				text = text[end+4:]
				continue
			}
		case text[0] == '[':
			if close := strings.IndexByte(text, ']'); close > 0 && strings.HasPrefix(text[close:], "](") {
				if end := strings.IndexByte(text[close:], ')'); end >= 0 {
					spans = append(spans, span{Kind: "link", Text: text[1:close], Href: text[close+2 : close+end]})
					text = text[close+end+1:]
					continue
				}
			}
		}
		plain(text[:1])
		text = text[1:]
	}
	return spans
}
