package email

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/store"
	"github.com/riverqueue/river"
)

// Outbox retries the live sends Resend asked to retry (a 429 or a 5xx), as background jobs
// of the queue webhooks use: each job makes one attempt with the email's own Idempotency-Key,
// so Resend sends it at most once however often it is tried.
type Outbox struct {
	river.WorkerDefaults[store.EmailJob]
	Store  *store.Store
	Box    *secrets.Box
	Client *Client
	// Sent is the event a send records once Resend accepts it (email.sent).
	Sent func(store.Email) store.NewEvent
	// KeyBinding is what an integration's sealed API key is bound to (its tenant).
	KeyBinding func(store.EmailJob) string
	// Backoff replaces the wait before attempt n+1 after attempt n failed, for tests.
	Backoff func(attempt int) time.Duration
}

// Timeout bounds one attempt.
func (o *Outbox) Timeout(*river.Job[store.EmailJob]) time.Duration { return time.Minute }

// NextRetry spaces the attempts: 30 s, 1, 2, 4, 8, 16, 32 minutes.
func (o *Outbox) NextRetry(job *river.Job[store.EmailJob]) time.Time {
	if o.Backoff != nil {
		return time.Now().Add(o.Backoff(job.Attempt))
	}
	return time.Now().Add(30 * time.Second << min(job.Attempt-1, 6))
}

// Work makes one attempt at sending the job's email.
func (o *Outbox) Work(ctx context.Context, job *river.Job[store.EmailJob]) error {
	c := job.Args.Caller()
	var (
		e     store.Email
		integ store.EmailIntegration
	)
	err := o.Store.InTx(ctx, c, func(tx *store.Tx) (err error) {
		if e, err = store.Get(ctx, tx, store.Emails, job.Args.EmailID); err != nil {
			return err
		}
		integ, err = store.EmailIntegrationOf(ctx, tx)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && e.ID == "":
		return river.JobCancel(fmt.Errorf("email %s no longer exists", job.Args.EmailID))
	case errors.Is(err, store.ErrNotFound):
		return o.fail(ctx, job, "The workspace's Resend integration was disconnected before the email could be sent.")
	case err != nil:
		return err
	case e.Status != store.EmailQueued:
		return nil // settled already (this job ran again after recording its outcome)
	}
	key, err := o.Box.Open(integ.APIKeySealed, o.KeyBinding(job.Args))
	if err != nil {
		return o.fail(ctx, job, "The Resend API key could not be opened: "+err.Error())
	}
	msg := Message{From: e.From, To: e.To, Subject: e.Subject, ReplyTo: e.ReplyTo}
	if e.HTML != nil {
		msg.HTML = *e.HTML
	}
	if e.Text != nil {
		msg.Text = *e.Text
	}
	id, sendErr := o.Client.Send(ctx, string(key), msg, e.ResendIdempotencyKey)
	var re *Error
	switch {
	case sendErr == nil:
		return o.Store.InTx(ctx, c, func(tx *store.Tx) error {
			row, err := store.SetEmailOutcome(ctx, tx, e.ID, store.EmailSent, &id, nil)
			if err != nil {
				return err
			}
			return tx.RecordEvents(ctx, o.Sent(row))
		})
	case errors.As(sendErr, &re) && re.Retryable() && job.Attempt < job.MaxAttempts:
		text := sendErr.Error()
		if err := o.Store.InTx(ctx, c, func(tx *store.Tx) error {
			_, err := store.SetEmailOutcome(ctx, tx, e.ID, store.EmailQueued, nil, &text)
			return err
		}); err != nil {
			return err
		}
		return sendErr // the queue tries again at NextRetry
	}
	return o.fail(ctx, job, sendErr.Error())
}

// fail settles the job's email as failed, saying why, and stops retrying.
func (o *Outbox) fail(ctx context.Context, job *river.Job[store.EmailJob], why string) error {
	err := o.Store.InTx(ctx, job.Args.Caller(), func(tx *store.Tx) error {
		_, err := store.SetEmailOutcome(ctx, tx, job.Args.EmailID, store.EmailFailed, nil, &why)
		return err
	})
	if err != nil {
		return err
	}
	return river.JobCancel(errors.New(why))
}

// Register adds the outbox's worker to a job queue client's workers.
func (o *Outbox) Register(w *river.Workers) { river.AddWorker(w, river.Worker[store.EmailJob](o)) }
