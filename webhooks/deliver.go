package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store"
	"github.com/riverqueue/river"
)

// Options configure the delivery engine.
type Options struct {
	// Payload is the body of a delivery: the event exactly as GET /v1/events/{id} returns it.
	Payload func(store.Event) []byte
	Version string       // in the user-agent: Relm-Webhooks/<version>
	Log     *slog.Logger // nil: slog.Default()
	// Workers is how many attempts this process makes at once, all endpoints together
	// (default 100); PerEndpoint how many of them one endpoint may hold (default 10), so a
	// slow or dead endpoint cannot take every worker.
	Workers, PerEndpoint int
	// RescueAfter is how long a job may be running before another process takes it over,
	// which is what happens to the job of a process that died mid-attempt (default 2
	// minutes; it must exceed an attempt's timeout).
	RescueAfter time.Duration
	// Clients send the attempts of each mode; nil means NewClient for the mode's rule.
	Clients map[auth.Mode]*Client
	// Open opens an endpoint's sealed signing secret (package secrets' Box.Open, with
	// binding tools.WebhookSecretBinding).
	Open func(c auth.Caller, endpoint, sealed string) (string, error)
	// Now and Rand replace the clock and the jitter source, for tests.
	Now  func() time.Time
	Rand func() float64
	// Retry replaces the retry schedule (NextAttempt), for tests: when attempt number
	// attempt, failed at failedAt, is tried again; false when it is the last.
	Retry func(attempt int, failedAt time.Time) (time.Time, bool)
	// Others are further kinds of background work (email sends) run by the same client of
	// the job queue, so that a process has one.
	Others []Work
}

// Work is a kind of background job run beside deliveries: its queue, how many of its jobs
// run at once, and Add, which registers its worker.
type Work struct {
	Queue   string
	Workers int
	Add     func(*river.Workers)
}

// Engine sends webhook deliveries: it works the delivery jobs that events queue, makes one
// attempt per job, records it, and schedules the next attempt as a new job in the same
// transaction, so a crash at any point loses no delivery (an attempt whose outcome was not
// recorded is made again: at least once).
type Engine struct {
	river.WorkerDefaults[store.DeliveryJob]
	store  *store.Store
	opts   Options
	client *river.Client[pgx.Tx]

	mu    sync.Mutex
	slots map[string]chan struct{} // endpoint id -> its places for attempts in this process
}

// Start starts the engine on s; it runs until Stop.
func Start(ctx context.Context, s *store.Store, opts Options) (*Engine, error) {
	if opts.Payload == nil || opts.Open == nil {
		return nil, errors.New("webhooks: Options.Payload and Options.Open are required")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Workers <= 0 {
		opts.Workers = 100
	}
	if opts.PerEndpoint <= 0 {
		opts.PerEndpoint = 10
	}
	if opts.RescueAfter <= 0 {
		opts.RescueAfter = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Retry == nil {
		rnd := opts.Rand
		opts.Retry = func(attempt int, failedAt time.Time) (time.Time, bool) { return NextAttempt(attempt, failedAt, rnd) }
	}
	if opts.Clients == nil {
		opts.Clients = map[auth.Mode]*Client{auth.Live: NewClient(ClientOptions{Live: true}), auth.Test: NewClient(ClientOptions{})}
	}
	e := &Engine{store: s, opts: opts, slots: map[string]chan struct{}{}}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.Worker[store.DeliveryJob](e))
	queues := map[string]river.QueueConfig{store.DeliveryQueue: {MaxWorkers: opts.Workers}}
	for _, w := range opts.Others {
		w.Add(workers)
		queues[w.Queue] = river.QueueConfig{MaxWorkers: w.Workers}
	}
	jobTimeout := DefaultTimeout + 2*time.Second
	client, err := s.JobClient(&river.Config{
		Queues:     queues,
		Workers:    workers,
		JobTimeout: jobTimeout,
		// A worker that finishes looks for more after 20 ms (River's default is 100 ms): at a
		// steady trickle of events, this is most of an event's wait.
		FetchCooldown:        20 * time.Millisecond,
		RescueStuckJobsAfter: max(opts.RescueAfter, jobTimeout+time.Second),
		Logger:               slog.New(warnOnly{opts.Log.Handler()}).With("component", "jobs"),
	})
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("webhooks: start: %w", err)
	}
	e.client = client
	return e, nil
}

// Stop lets attempts under way finish (until ctx ends), then stops working jobs.
func (e *Engine) Stop(ctx context.Context) error { return e.client.Stop(ctx) }

// Timeout bounds a job: one attempt and its bookkeeping.
func (e *Engine) Timeout(*river.Job[store.DeliveryJob]) time.Duration {
	return DefaultTimeout + 2*time.Second
}

// NextRetry is when a job that failed for a reason of ours (the database was unreachable)
// runs again: soon, since the delivery's own schedule is kept apart (see Work).
func (e *Engine) NextRetry(job *river.Job[store.DeliveryJob]) time.Time {
	return e.opts.Now().Add(time.Duration(min(job.Attempt, 10)) * 5 * time.Second)
}

// Work makes one attempt of the job's delivery.
func (e *Engine) Work(ctx context.Context, job *river.Job[store.DeliveryJob]) error {
	c := job.Args.Caller()
	var w store.DeliveryWork
	err := e.store.InTx(ctx, c, func(tx *store.Tx) (err error) {
		w, err = store.LoadDeliveryWork(ctx, tx, job.Args.DeliveryID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound): // the endpoint was deleted with its deliveries
		return river.JobCancel(fmt.Errorf("delivery %s no longer exists", job.Args.DeliveryID))
	case err != nil:
		return err // ours: the queue retries the job
	case w.Delivery.Status == store.DeliverySucceeded && !job.Args.Replay:
		return nil // delivered already (this job was re-run after its attempt was recorded)
	case !w.Endpoint.Enabled:
		err := e.store.InTx(ctx, c, func(tx *store.Tx) error {
			return store.SetDeliveryStatus(ctx, tx, w.Delivery.ID, store.DeliveryFailed, nil)
		})
		if err != nil {
			return err
		}
		return river.JobCancel(fmt.Errorf("endpoint %s is disabled", w.Endpoint.ID))
	}
	slot := e.slot(w.Endpoint.ID)
	select {
	case slot <- struct{}{}:
		defer func() { <-slot }()
	case <-time.After(slotWait):
		// The endpoint has held its share of workers for a while (it is slow or dead): put
		// the job back without using an attempt, and leave the worker to other endpoints.
		return river.JobSnooze(time.Second)
	case <-ctx.Done():
		return ctx.Err()
	}

	now := e.opts.Now()
	var secrets []string
	for _, sealed := range w.Endpoint.SigningSecrets(now) {
		s, err := e.opts.Open(c, w.Endpoint.ID, sealed)
		if err != nil {
			return e.record(ctx, job, w, Attempt{Outcome: OutcomeRetry, Error: "the signing secret could not be opened with this server's secret: " + err.Error()})
		}
		secrets = append(secrets, s)
	}
	req, err := NewRequest(ctx, Message{URL: w.Endpoint.URL, EventID: w.Event.ID, EventType: w.Event.Type,
		Body: e.opts.Payload(w.Event), Secrets: secrets}, e.opts.Version, now)
	if err != nil {
		return river.JobCancel(err)
	}
	client := e.opts.Clients[c.Mode]
	if client == nil {
		return river.JobCancel(fmt.Errorf("webhooks: no client for mode %q", c.Mode))
	}
	a := client.Send(req)
	return e.record(ctx, job, w, a)
}

// record stores attempt a and what follows from it, in one transaction: the delivery's
// new status, the endpoint disabled after a 410, or the job of the next attempt.
func (e *Engine) record(ctx context.Context, job *river.Job[store.DeliveryJob], w store.DeliveryWork, a Attempt) error {
	c := job.Args.Caller()
	number := w.Delivery.AttemptCount + 1
	status, next := store.DeliveryFailed, (*time.Time)(nil)
	switch a.Outcome {
	case OutcomeSuccess:
		status = store.DeliverySucceeded
	case OutcomeRetry:
		switch {
		case job.Args.Replay && w.Delivery.Status == store.DeliveryRetrying:
			status, next = store.DeliveryRetrying, w.Delivery.NextAttemptAt // its scheduled attempt still comes
		case !job.Args.Replay:
			if at, ok := e.opts.Retry(number, e.opts.Now()); ok {
				status, next = store.DeliveryRetrying, &at
			}
		}
	}
	attempt := store.WebhookAttempt{DeliveryID: w.Delivery.ID, LatencyMS: int(a.Latency.Milliseconds())}
	if a.Status != 0 {
		attempt.StatusCode = &a.Status
	}
	if a.Body != "" {
		attempt.ResponseBody = &a.Body
	}
	if a.Error != "" {
		attempt.Error = &a.Error
	}
	err := e.store.InTx(ctx, c, func(tx *store.Tx) error {
		if _, err := store.RecordWebhookAttempt(ctx, tx, attempt, status, next); err != nil {
			return err
		}
		if a.Outcome == OutcomeGone {
			return store.DisableWebhookEndpoint(ctx, tx, w.Endpoint.ID, "The endpoint answered 410 Gone; Relm stopped delivering to it. Enable it again to resume.")
		}
		if status == store.DeliveryRetrying && !job.Args.Replay {
			return tx.EnqueueDeliveries(ctx, []string{w.Delivery.ID}, *next, false)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if a.Outcome != OutcomeSuccess {
		e.opts.Log.InfoContext(ctx, "webhook attempt failed", "delivery", w.Delivery.ID, "endpoint", w.Endpoint.ID,
			"attempt", number, "status", a.Status, "error", a.Error, "next", status)
	}
	return nil
}

// slotWait is how long a job waits for one of its endpoint's places before it is put back.
const slotWait = time.Second

// slot is endpoint's semaphore: a place is a value in the channel.
func (e *Engine) slot(endpoint string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.slots[endpoint]
	if !ok {
		c = make(chan struct{}, e.opts.PerEndpoint)
		e.slots[endpoint] = c
	}
	return c
}

// warnOnly passes on the job queue's warnings and errors, not its routine reports.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(as)} }

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
