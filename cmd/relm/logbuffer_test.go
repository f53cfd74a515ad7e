package main

import (
	"context"
	"strings"
	"testing"
)

// TestBufferedLogger: info lines wait for a flush, a warning writes everything before it at
// once, a full buffer is written, and run writes the rest when its context ends.
func TestBufferedLogger(t *testing.T) {
	var out syncBuffer
	log, buf := bufferedLogger(&out)
	log.Info("request", "path", "/v1/contacts")
	if out.String() != "" {
		t.Fatalf("an info line was written at once: %q", out.String())
	}
	log.With("component", "x").Warn("slow")
	if got := out.String(); !strings.Contains(got, "path=/v1/contacts") || !strings.Contains(got, "level=WARN msg=slow component=x") {
		t.Fatalf("a warning did not flush the lines before it: %q", got)
	}
	for range maxLogBuffer / 40 {
		log.Info("request", "path", "/v1/contacts/con_1")
	}
	if n := len(out.String()); n < maxLogBuffer/2 {
		t.Fatalf("a full buffer was not written: %d bytes out", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { buf.run(ctx); close(done) }()
	log.Info("last")
	cancel()
	<-done
	if !strings.HasSuffix(out.String(), "msg=last\n") {
		t.Fatalf("run did not write the last line when it stopped: %q", out.String()[max(0, len(out.String())-200):])
	}
}
