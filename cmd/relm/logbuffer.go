package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logBuffer gathers log lines in memory and writes them to w together: every flushEvery
// (run), once maxLogBuffer bytes have gathered, right after a warning or an error
// (flushOnWarn), and at exit. A server logs a line per request, and one write system call
// per line cost it 2% of a point read's CPU. A crash can lose the info lines of the last
// flushEvery; warnings and errors are written before the call that logs them returns.
type logBuffer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error // the first failed write; later lines are dropped, as a full disk drops them
}

const (
	flushEvery   = 100 * time.Millisecond
	maxLogBuffer = 64 << 10
)

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) >= maxLogBuffer {
		b.flushLocked()
	}
	return len(p), nil
}

// Flush writes what has gathered.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if len(b.buf) > 0 && b.err == nil {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
}

// run flushes every flushEvery until ctx ends, then once more.
func (b *logBuffer) run(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			b.Flush()
			return
		case <-t.C:
			b.Flush()
		}
	}
}

// flushOnWarn is a slog.Handler writing to a logBuffer that flushes it after every record
// at warning level or above.
type flushOnWarn struct {
	slog.Handler
	buf *logBuffer
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.buf}
}

// bufferedLogger is a text logger at info level writing through a logBuffer to w, and the
// buffer, which the caller runs and flushes at exit.
func bufferedLogger(w io.Writer) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{w: w}
	return slog.New(flushOnWarn{slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}), buf}), buf
}
