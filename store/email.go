package store

import (
	"context"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/filter"
	"github.com/riverqueue/river"
)

// EmailIntegration is a workspace's connection to its own Resend account, in one mode.
type EmailIntegration struct {
	APIKeySealed string    `db:"api_key_sealed"` // sealed by package secrets; never leaves the server
	APIKeyLast4  string    `db:"api_key_last4"`
	FromEmail    string    `db:"from_email"`
	Access       string    `db:"access"` // full, sending_only, or unchecked (test mode never calls Resend)
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

// EmailIntegrationOf returns the tenant's integration, or ErrNotFound.
func EmailIntegrationOf(ctx context.Context, tx *Tx) (EmailIntegration, error) {
	rows, err := tx.tx.Query(ctx, `SELECT api_key_sealed, api_key_last4, from_email, access, created_at, updated_at
		FROM email_integrations WHERE workspace_id = $1 AND mode = $2`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return EmailIntegration{}, wrap("email integration", err)
	}
	got, err := collect[EmailIntegration](rows)
	if err != nil {
		return EmailIntegration{}, wrap("email integration", err)
	}
	if len(got) == 0 {
		return EmailIntegration{}, ErrNotFound
	}
	return got[0], nil
}

// PutEmailIntegration creates or replaces the tenant's integration.
func PutEmailIntegration(ctx context.Context, tx *Tx, in EmailIntegration) (EmailIntegration, error) {
	rows, err := tx.tx.Query(ctx, `
		INSERT INTO email_integrations (workspace_id, mode, api_key_sealed, api_key_last4, from_email, access)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (workspace_id, mode) DO UPDATE SET api_key_sealed = excluded.api_key_sealed,
			api_key_last4 = excluded.api_key_last4, from_email = excluded.from_email, access = excluded.access,
			updated_at = clock_timestamp()
		RETURNING api_key_sealed, api_key_last4, from_email, access, created_at, updated_at`,
		tx.t.WorkspaceID, tx.t.Mode, in.APIKeySealed, in.APIKeyLast4, in.FromEmail, in.Access)
	if err != nil {
		return EmailIntegration{}, wrap("put email integration", err)
	}
	got, err := collect[EmailIntegration](rows)
	if err != nil || len(got) == 0 {
		return EmailIntegration{}, wrap("put email integration", err)
	}
	return got[0], nil
}

// DeleteEmailIntegration erases the tenant's integration, sealed key included; ErrNotFound
// when there is none.
func DeleteEmailIntegration(ctx context.Context, tx *Tx) error {
	tag, err := tx.tx.Exec(ctx, `DELETE FROM email_integrations WHERE workspace_id = $1 AND mode = $2`, tx.t.WorkspaceID, tx.t.Mode)
	if err != nil {
		return wrap("delete email integration", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Email is one message sent, queued or simulated through a tenant's integration.
type Email struct {
	ID                   string    `db:"id"`
	Mode                 auth.Mode `db:"mode"`
	From                 string    `db:"from_email"`
	To                   []string  `db:"to_emails"`
	ReplyTo              []string  `db:"reply_to"`
	Subject              string    `db:"subject"`
	HTML                 *string   `db:"html"`
	Text                 *string   `db:"body_text"`
	Status               string    `db:"status"` // queued, sent, simulated or failed
	ResendID             *string   `db:"resend_id"`
	Error                *string   `db:"error"`
	AttemptCount         int       `db:"attempt_count"`
	ResendIdempotencyKey string    `db:"resend_idempotency_key"`
	CreatedAt            time.Time `db:"created_at"`
	UpdatedAt            time.Time `db:"updated_at"`
}

// Position is the email's place in the newest-first list.
func (e Email) Position() Cursor { return Cursor{CreatedAt: e.CreatedAt, ID: e.ID} }

// Email statuses.
const (
	EmailQueued    = "queued"
	EmailSent      = "sent"
	EmailSimulated = "simulated"
	EmailFailed    = "failed"
)

// Emails is the table of sent emails.
var Emails = newTable[Email]("emails", "email", "eml_", filter.Spec{Fields: append([]filter.Field{
	idField,
	{Name: "status", Column: "status", Kind: filter.Enum, Values: []string{EmailQueued, EmailSent, EmailSimulated, EmailFailed}},
	{Name: "subject", Column: "subject", Kind: filter.Text},
	{Name: "from", Column: "from_email", Kind: filter.CIText},
}, timestamps...)})

// SetEmailOutcome records an attempt at sending the tenant's email id: its new status,
// Resend's id when it was accepted, the error when it failed.
func SetEmailOutcome(ctx context.Context, tx *Tx, id, status string, resendID, errText *string) (Email, error) {
	return Emails.one(ctx, tx, "update", `UPDATE emails SET status = $4, resend_id = coalesce($5, resend_id), error = $6,
		attempt_count = attempt_count + 1, updated_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND id = $3 RETURNING `+Emails.cols,
		tx.t.WorkspaceID, tx.t.Mode, id, status, resendID, errText)
}

// EmailJob is the queued work of one attempt at sending one email.
type EmailJob struct {
	EmailID string `json:"email_id"`
	JobTenant
}

// Kind names the job in the queue.
func (EmailJob) Kind() string { return "email_send" }

// EmailQueue is the queue email jobs go to.
const EmailQueue = "email"

// EnqueueEmail queues the sending of the tenant's email id at at, in tx.
func (tx *Tx) EnqueueEmail(ctx context.Context, id string, at time.Time) error {
	return tx.enqueue(ctx, "email", []river.JobArgs{EmailJob{EmailID: id, JobTenant: tx.jobTenant()}},
		river.InsertOpts{Queue: EmailQueue, ScheduledAt: at, MaxAttempts: 8})
}
