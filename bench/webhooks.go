package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

// arrivals is a local webhook receiver noting when each event arrived and how long after
// its creation (the event's created_at, set in the database as the write recorded it).
type arrivals struct {
	mu    sync.Mutex
	after []time.Duration
	last  time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		CreatedAt time.Time `json:"created_at"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &ev)
	now := time.Now()
	a.mu.Lock()
	a.after = append(a.after, now.Sub(ev.CreatedAt))
	a.last = now
	a.mu.Unlock()
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.after)
}

// wait waits until n deliveries arrived, or a minute passed.
func (a *arrivals) wait(n int) error {
	deadline := time.Now().Add(time.Minute)
	for a.count() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("webhooks: %d of %d deliveries arrived in a minute", a.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// webhookDelivery measures event-to-delivery latency at a steady 100 events a second to
// one local endpoint, and deliveries per second at saturation to eight.
func (b *bench) webhookDelivery(ctx context.Context) error {
	// A new workspace each run: no endpoints or emails left over from an earlier one.
	ws, _, err := b.admin.EnsureWorkspace(ctx, "webhooks-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err != nil {
		return err
	}
	ctx = auth.WithCaller(ctx, auth.Caller{WorkspaceID: ws.ID, Mode: auth.Test, KeyID: "bench"})
	engine, err := webhooks.Start(context.WithoutCancel(ctx), b.st, webhooks.Options{Payload: tools.EventPayload,
		Open: tools.WebhookSecretOpener(b.box), Version: "bench", Log: b.log})
	if err != nil {
		return err
	}
	defer engine.Stop(context.WithoutCancel(ctx))

	steady := &arrivals{}
	srv := httptest.NewServer(steady)
	defer srv.Close()
	endpoint, err := b.call(ctx, "create_webhook", map[string]any{"url": srv.URL, "events": []string{"contact.created"}})
	if err != nil {
		return err
	}
	const rate = 100
	seconds := b.opts.WebhookSeconds
	tick := time.NewTicker(time.Second / rate)
	for i := range rate * seconds {
		<-tick.C
		if _, err := b.call(ctx, "create_contact", map[string]any{"email": fmt.Sprintf("steady%d@example.com", i)}); err != nil {
			tick.Stop()
			return err
		}
	}
	tick.Stop()
	if err := steady.wait(rate * seconds); err != nil {
		return err
	}
	if _, err := b.call(ctx, "delete_webhook", map[string]any{"id": endpoint.(tools.WebhookEndpointWithSecret).ID}); err != nil {
		return err
	}
	slices.Sort(steady.after)

	burst := &arrivals{}
	srv2 := httptest.NewServer(burst)
	defer srv2.Close()
	const endpoints = 8
	events, perBatch := b.opts.WebhookEvents, min(500, b.opts.WebhookEvents)
	for range endpoints {
		if _, err := b.call(ctx, "create_webhook", map[string]any{"url": srv2.URL, "events": []string{"contact.created"}}); err != nil {
			return err
		}
	}
	start := time.Now()
	for batch := range events / perBatch {
		rows := make([]any, perBatch)
		for i := range rows {
			rows[i] = map[string]any{"email": fmt.Sprintf("burst%d-%d@example.com", batch, i)}
		}
		if _, err := b.call(ctx, "batch_upsert_contacts", map[string]any{"contacts": rows}); err != nil {
			return err
		}
	}
	events = events / perBatch * perBatch
	if err := burst.wait(endpoints * events); err != nil {
		return err
	}
	took := burst.last.Sub(start)

	b.rep.printf("## Webhook delivery\n\nThrough the delivery engine `relm serve` runs (River, 100 workers, at most 10 per endpoint) to a local receiver that answers 200 at once; " +
		"latency runs from the event's `created_at` (in the writing transaction) to the receiver reading the request.\n\n")
	b.rep.printf("| measurement | result |\n| --- | --- |\n")
	b.rep.printf("| event → delivery at %d events/s for %d s, one endpoint | p50 %s, p95 %s, p99 %s |\n",
		rate, seconds, fmtMS(pct(steady.after, 50)), fmtMS(pct(steady.after, 95)), fmtMS(pct(steady.after, 99)))
	b.rep.printf("| saturation: %d events (batch imports of %d) to %d endpoints | %d deliveries in %s: %.0f deliveries/s |\n\n",
		events, perBatch, endpoints, endpoints*events, took.Round(time.Millisecond), float64(endpoints*events)/took.Seconds())
	return nil
}
