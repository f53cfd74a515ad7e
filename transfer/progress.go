package transfer

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Progress reports an import as it goes: a bar redrawn in place on a terminal, otherwise
// one plain line per batch. A nil *Progress reports nothing.
type Progress struct {
	W   io.Writer
	Bar bool // redraw one line (for a terminal) instead of printing a line per step

	total, sent int
}

// NewProgress reports to f, as a bar when f is a terminal.
func NewProgress(f *os.File) *Progress {
	return &Progress{W: f, Bar: IsTerminal(f)}
}

// IsTerminal reports whether f is a terminal (a character device).
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *Progress) start(total int) {
	if p != nil {
		p.total = total
	}
}

func (p *Progress) advance(n int, r *ImportResult) {
	if p == nil || (n == 0 && p.sent > 0) {
		return
	}
	p.sent += n
	counts := fmt.Sprintf("%d/%d rows: %d created, %d updated, %d failed", p.sent, p.total, r.Created, r.Updated, len(r.Failed))
	if !p.Bar {
		if n > 0 {
			fmt.Fprintln(p.W, counts)
		}
		return
	}
	const width = 30
	filled := width
	if p.total > 0 {
		filled = width * p.sent / p.total
	}
	fmt.Fprintf(p.W, "\r[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), counts)
}

func (p *Progress) finish() {
	if p != nil && p.Bar {
		fmt.Fprintln(p.W)
	}
}
