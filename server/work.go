package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/relmcrm/relm/automations"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

// WorkOptions configure the background work of a serving process.
type WorkOptions struct {
	Log         *slog.Logger
	Version     string        // sent in webhook deliveries' User-Agent
	RescueAfter time.Duration // how long a job may run before another process takes it over; zero: the default
	Workers     int           // per queue for email sends and automation runs; zero: 10
}

// StartWork runs webhook deliveries, email sends and automation runs, as every serving
// process does (the jobs are shared through the database). They run on their own context:
// stopping the engine (Stop) lets attempts under way finish.
func StartWork(ctx context.Context, s *store.Store, mail *tools.EmailServices, reg *tools.Registry, o WorkOptions) (*webhooks.Engine, error) {
	if o.Workers == 0 {
		o.Workers = 10
	}
	outbox := &email.Outbox{Store: s, Box: mail.Box, Client: mail.Resend, Sent: tools.EmailSentEvent, KeyBinding: tools.EmailKeyBinding}
	runner := &automations.Runner{Store: s, Registry: reg, Log: o.Log}
	return webhooks.Start(context.WithoutCancel(ctx), s, webhooks.Options{Payload: tools.EventPayload,
		Open: tools.WebhookSecretOpener(mail.Box), Version: o.Version, Log: o.Log, RescueAfter: o.RescueAfter,
		Others: []webhooks.Work{{Queue: store.EmailQueue, Workers: o.Workers, Add: outbox.Register},
			{Queue: store.AutomationQueue, Workers: o.Workers, Add: runner.Register}}})
}
