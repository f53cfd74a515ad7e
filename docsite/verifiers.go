package docsite

import (
	"fmt"
	"strings"
)

// snippet is a titled piece of code shown on the pages.
type snippet struct {
	ID, Title, Lang, Code string
}

// verifiers takes the signature verifiers for Go (the standard-library one), Node and
// Python from webhooksDoc (docs/webhooks.md), whose code the webhooks package's tests run
// against the signatures it makes.
func verifiers(webhooksDoc string) ([]snippet, error) {
	wanted := []struct {
		heading, lang string
		index         int // which code block under the heading
		title, id     string
	}{
		{"### Go", "go", 1, "Go (standard library)", "verify-go"},
		{"### Node", "js", 0, "Node", "verify-node"},
		{"### Python", "python", 0, "Python", "verify-python"},
	}
	var out []snippet
	for _, w := range wanted {
		code, err := codeBlock(webhooksDoc, w.heading, w.index)
		if err != nil {
			return nil, err
		}
		out = append(out, snippet{ID: w.id, Title: w.title, Lang: w.lang, Code: code})
	}
	return out, nil
}

// codeBlock is the index-th fenced code block of the section under heading.
func codeBlock(doc, heading string, index int) (string, error) {
	_, section, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		return "", fmt.Errorf("docsite: docs/webhooks.md has no %q section", heading)
	}
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	for _, b := range parseMarkdown(section) {
		if b.Kind == "pre" {
			blocks = append(blocks, b.Code)
		}
	}
	if index >= len(blocks) {
		return "", fmt.Errorf("docsite: docs/webhooks.md's %q section has %d code blocks, not %d", heading, len(blocks), index+1)
	}
	return blocks[index], nil
}
