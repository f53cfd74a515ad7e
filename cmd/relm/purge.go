package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/relmcrm/relm/store"
)

// purgeEvery is how often serve deletes what has outlived its retention.
const purgeEvery = time.Hour

// purgeJob deletes one kind of expired data and says how many rows went.
type purgeJob struct {
	what string
	run  func(context.Context) (int64, error)
}

// retention lists what serve purges: idempotency keys after 24 hours and request logs
// after store.RequestLogRetention (30 days), expired sandboxes, dashboard sessions a week
// after they ended, and OAuth codes and tokens a day after they expired.
func retention(s *store.Store) []purgeJob {
	return []purgeJob{
		{"expired idempotency keys", s.PurgeIdempotencyKeys},
		{"old request logs", s.PurgeRequestLogs},
		{"expired sandboxes", s.PurgeSandboxes},
		{"ended dashboard sessions", s.PurgeSessions},
		{"expired OAuth codes and tokens", s.PurgeOAuth},
	}
}

// startPurging runs every job now and then every purgeEvery, until ctx ends or the
// returned stop is called; stop waits for a purge in flight and may be called more than once.
func startPurging(ctx context.Context, log *slog.Logger, jobs []purgeJob) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(purgeEvery)
		defer ticker.Stop()
		for {
			for _, j := range jobs {
				if n, err := j.run(ctx); err != nil {
					if ctx.Err() == nil {
						log.Error("purge "+j.what, "err", err)
					}
				} else if n > 0 {
					log.Info("purged "+j.what, "count", n)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(cancel)
		<-done
	}
}
