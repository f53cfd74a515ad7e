package metering

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
)

// Log buffer defaults.
const (
	DefaultLogBuffer     = 10_000                 // request logs held in memory at most
	DefaultLogFlushEvery = 200 * time.Millisecond // how often they are written
	logFlushAt           = 1_000                  // a buffer this full is written at once
)

// Logs buffers request logs and writes them in batches: every FlushEvery, when 1,000 are
// waiting, and on Close. A request never waits for its log; when the buffer is full the
// log is dropped and counted instead (Dropped), so a slow database cannot slow requests.
type Logs struct {
	store *store.Store
	log   *slog.Logger
	max   int

	mu      sync.Mutex
	buf     []tenantLog
	dropped uint64
	written uint64
	failed  uint64 // logs lost to failed writes

	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	every     time.Duration
	lastWarn  time.Time
	warnedAt  uint64
}

type tenantLog struct {
	tenant auth.Caller
	log    store.RequestLog
}

// NewLogs starts a log buffer holding at most max logs (0: DefaultLogBuffer), written
// every flushEvery (0: DefaultLogFlushEvery).
func NewLogs(s *store.Store, max int, flushEvery time.Duration, log *slog.Logger) *Logs {
	if max <= 0 {
		max = DefaultLogBuffer
	}
	if flushEvery <= 0 {
		flushEvery = DefaultLogFlushEvery
	}
	l := &Logs{store: s, log: log, max: max, every: flushEvery,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Add queues the logs of one request of tenant t, or drops them if the buffer is full.
func (l *Logs) Add(t auth.Caller, logs ...store.RequestLog) {
	l.mu.Lock()
	for _, r := range logs {
		if len(l.buf) >= l.max {
			l.dropped++
			continue
		}
		l.buf = append(l.buf, tenantLog{tenant: t, log: r})
	}
	full := len(l.buf) >= logFlushAt
	l.mu.Unlock()
	if full {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// LogStats count request logs since the buffer started.
type LogStats struct {
	Written, Dropped, Failed uint64
	Waiting                  int
}

// Stats reports what became of the request logs.
func (l *Logs) Stats() LogStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LogStats{Written: l.written, Dropped: l.dropped, Failed: l.failed, Waiting: len(l.buf)}
}

func (l *Logs) run() {
	defer close(l.done)
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		case <-l.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = l.Flush(ctx)
		cancel()
	}
}

// Flush writes every waiting log now, in one round trip.
func (l *Logs) Flush(ctx context.Context) error {
	l.mu.Lock()
	buf := l.buf
	l.buf = nil
	l.mu.Unlock()
	var err error
	if len(buf) > 0 {
		err = l.store.RecordRequests(ctx, group(buf))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed += uint64(len(buf))
		l.log.Error("write request logs", "logs", len(buf), "err", err)
	} else {
		l.written += uint64(len(buf))
	}
	if l.dropped > l.warnedAt && time.Since(l.lastWarn) > 10*time.Second {
		l.log.Warn("request log buffer full: logs dropped", "dropped_total", l.dropped, "buffer", l.max)
		l.warnedAt, l.lastWarn = l.dropped, time.Now()
	}
	return err
}

// group puts logs together by tenant, keeping their order.
func group(buf []tenantLog) []store.TenantLogs {
	var out []store.TenantLogs
	index := map[auth.Caller]int{}
	for _, b := range buf {
		k := auth.Caller{WorkspaceID: b.tenant.WorkspaceID, Mode: b.tenant.Mode}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, store.TenantLogs{Tenant: k})
		}
		out[i].Logs = append(out[i].Logs, b.log)
	}
	return out
}

// Close stops the timer and writes what is waiting, within ctx.
func (l *Logs) Close(ctx context.Context) error {
	var err error
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		err = l.Flush(ctx)
	})
	return err
}
