package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// Email codes.
const (
	CodeIntegrationRequired Code = "integration_required" // live email needs the workspace's Resend integration (or a full-access key)
	CodeEmailRejected       Code = "email_rejected"       // Resend refused the message or request; the message says what to fix
	CodeProviderUnavailable Code = "provider_unavailable" // Resend could not be reached or asked us to slow down: retry later
)

// EmailServices are what the email and webhook capabilities need beyond the store: the box
// that seals credentials (Resend keys, webhook signing secrets), and the Resend client.
type EmailServices struct {
	Box    *secrets.Box
	Resend *email.Client
}

type emailServicesKey struct{}

// EnableEmail gives the email capabilities their services.
func (r *Registry) EnableEmail(s EmailServices) { r.email = &s }

func emailServices(ctx context.Context) (*EmailServices, error) {
	s, ok := ctx.Value(emailServicesKey{}).(*EmailServices)
	if !ok || s == nil || s.Box == nil || s.Resend == nil {
		return nil, errors.New("tools: email capability without email services (Registry.EnableEmail)")
	}
	return s, nil
}

// EmailIntegration describes the workspace's connection to its Resend account.
type EmailIntegration struct {
	Object      string  `json:"object" enum:"email_integration" doc:"Always \"email_integration\"."`
	Configured  bool    `json:"configured" doc:"Whether a Resend API key is connected in this mode."`
	FromEmail   *string `json:"from_email" doc:"The default sender address."`
	Verified    bool    `json:"verified" doc:"Whether from_email's domain is verified in the Resend account (false in test mode, which never contacts Resend)."`
	Access      *string `json:"access" enum:"full,sending_only,unchecked" doc:"full: the key may manage domains; sending_only: a restricted Resend key that may only send; unchecked: test mode, which never contacts Resend."`
	APIKeyLast4 *string `json:"api_key_last4" doc:"The key's last four characters; the key itself is never shown."`
	Mode        string  `json:"mode" enum:"live,test"`
	Note        *string `json:"note" doc:"What the integration can and cannot do, when something is missing."`
}

// SetEmailIntegrationInput connects a Resend account.
type SetEmailIntegrationInput struct {
	APIKey    string `json:"api_key" minLength:"4" maxLength:"200" pattern:"^re_[A-Za-z0-9_]+$" doc:"A Resend API key (re_…). Stored encrypted; never shown again."`
	FromEmail string `json:"from_email" format:"email" maxLength:"254" doc:"Default sender, an address on a domain verified in that Resend account."`
}

// Email is one message sent, queued or simulated.
type Email struct {
	ID           string    `json:"id" doc:"Unique id, starting with eml_."`
	Object       string    `json:"object" enum:"email" doc:"Always \"email\"."`
	From         string    `json:"from"`
	To           []string  `json:"to"`
	ReplyTo      []string  `json:"reply_to"`
	Subject      string    `json:"subject"`
	HTML         *string   `json:"html"`
	Text         *string   `json:"text"`
	Status       string    `json:"status" enum:"queued,sent,simulated,failed" doc:"sent: Resend accepted it; simulated: test mode, never sent; queued: Resend asked to retry later, it is being retried; failed: it could not be sent (error says why)."`
	ResendID     *string   `json:"resend_id" doc:"Resend's id for the message, once accepted."`
	Error        *string   `json:"error" doc:"Why it failed, when it did."`
	AttemptCount int       `json:"attempt_count"`
	Mode         string    `json:"mode" enum:"live,test"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// SendEmailInput is one message.
type SendEmailInput struct {
	From    string    `json:"from,omitempty" format:"email" maxLength:"254" doc:"Sender; default: the integration's from_email."`
	To      Addresses `json:"to" doc:"Recipients: one address or a list of 1–50."`
	Subject string    `json:"subject" minLength:"1" maxLength:"998"`
	HTML    string    `json:"html,omitempty" maxLength:"1000000" doc:"HTML body; html or text (or both) is required."`
	Text    string    `json:"text,omitempty" maxLength:"1000000" doc:"Plain-text body."`
	ReplyTo Addresses `json:"reply_to,omitempty" doc:"Where replies go: one address or a list."`
}

type emailFilter struct{}

func (emailFilter) spec() filter.Spec { return store.Emails.Filters }

// ListEmailsInput pages the sent emails.
type ListEmailsInput struct {
	Status string              `json:"status,omitempty" enum:"queued,sent,simulated,failed" doc:"Only emails with this status."`
	Filter Filter[emailFilter] `json:"filter,omitempty"`
	Page
}

// EmailIDInput names one email.
type EmailIDInput struct {
	ID EmailID `json:"id" doc:"Id of the email (eml_…)."`
}

func emailOut(e store.Email) Email {
	reply := e.ReplyTo
	if reply == nil {
		reply = []string{}
	}
	return Email{ID: e.ID, Object: "email", From: e.From, To: e.To, ReplyTo: reply, Subject: e.Subject, HTML: e.HTML, Text: e.Text,
		Status: e.Status, ResendID: e.ResendID, Error: e.Error, AttemptCount: e.AttemptCount, Mode: string(e.Mode),
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
}

type emailHandlers struct {
	plainRecords[store.Email, Email]
}

// keyBinding binds a sealed API key to its tenant and purpose.
func keyBinding(c auth.Caller) string {
	return "email_integration/" + c.WorkspaceID + "/" + string(c.Mode)
}

// integration reads the caller's integration, or ErrNotFound.
func (h emailHandlers) integration(ctx context.Context) (in store.EmailIntegration, err error) {
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		in, err = store.EmailIntegrationOf(ctx, tx)
		return err
	})
	return in, err
}

// sendingOnlyKey explains why a sending-only key cannot manage domains.
const sendingOnlyKey = "The connected Resend key may only send email; managing domains needs a full-access key. Connect one with set_email_integration."

func (h emailHandlers) getIntegration(ctx context.Context, _ NoInput) (EmailIntegration, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return EmailIntegration{}, err
	}
	out := EmailIntegration{Object: "email_integration", Mode: string(c.Mode)}
	in, err := h.integration(ctx)
	if errors.Is(err, store.ErrNotFound) {
		note := "No Resend account is connected in this mode. Connect one with set_email_integration (PUT /v1/integrations/email)."
		out.Note = &note
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Configured, out.FromEmail, out.Access, out.APIKeyLast4 = true, &in.FromEmail, &in.Access, &in.APIKeyLast4
	if c.Mode != auth.Live {
		note := "Test mode never contacts Resend: send_email records each message as simulated."
		out.Note = &note
		return out, nil
	}
	if in.Access == "sending_only" {
		note := "The key may only send (a restricted Resend key): domain tools and the verified check need a full-access key."
		out.Note = &note
		return out, nil
	}
	out.Verified, err = h.fromVerified(ctx, c, in)
	return out, err
}

// fromVerified asks Resend whether the from address's domain is verified in the account.
func (h emailHandlers) fromVerified(ctx context.Context, c auth.Caller, in store.EmailIntegration) (bool, error) {
	svc, key, err := h.apiKey(ctx, c, in)
	if err != nil {
		return false, err
	}
	domains, err := svc.Resend.ListDomains(ctx, key)
	if err != nil {
		return false, resendError(err, "")
	}
	_, domain, _ := strings.Cut(in.FromEmail, "@")
	for _, d := range domains {
		if strings.EqualFold(d.Name, domain) {
			return d.Status == "verified", nil
		}
	}
	return false, nil
}

// apiKey opens the integration's sealed API key.
func (h emailHandlers) apiKey(ctx context.Context, c auth.Caller, in store.EmailIntegration) (*EmailServices, string, error) {
	svc, err := emailServices(ctx)
	if err != nil {
		return nil, "", err
	}
	key, err := svc.Box.Open(in.APIKeySealed, keyBinding(c))
	if err != nil {
		return nil, "", sealError(err)
	}
	return svc, string(key), nil
}

// sealError explains a credential that cannot be sealed or opened: without a lasting
// server secret, or sealed under another secret or for another tenant.
func sealError(err error) error {
	if errors.Is(err, secrets.ErrNoKey) {
		return NewError(CodeSecretKeyRequired, "This server cannot store credentials: %s", err.Error())
	}
	return NewError(CodeIntegrationRequired, "The stored Resend API key cannot be read with this server's secret (it was stored under "+
		"another RELM_SECRET_KEY, or for another workspace). Connect the account again with set_email_integration.")
}

func (h emailHandlers) setIntegration(ctx context.Context, in SetEmailIntegrationInput) (EmailIntegration, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return EmailIntegration{}, err
	}
	svc, err := emailServices(ctx)
	if err != nil {
		return EmailIntegration{}, err
	}
	access := "unchecked"
	if c.Mode == auth.Live {
		a, err := svc.Resend.CheckKey(ctx, in.APIKey)
		if err != nil {
			return EmailIntegration{}, resendError(err, "api_key")
		}
		access = "full"
		if a == email.SendingOnly {
			access = "sending_only"
		}
	}
	sealed, err := svc.Box.Seal([]byte(in.APIKey), keyBinding(c))
	if err != nil {
		return EmailIntegration{}, sealError(err)
	}
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		_, err := store.PutEmailIntegration(ctx, tx, store.EmailIntegration{APIKeySealed: sealed,
			APIKeyLast4: in.APIKey[len(in.APIKey)-4:], FromEmail: in.FromEmail, Access: access})
		return err
	})
	if err != nil {
		return EmailIntegration{}, err
	}
	return h.getIntegration(ctx, NoInput{})
}

func (h emailHandlers) deleteIntegration(ctx context.Context, _ NoInput) (EmailIntegration, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return EmailIntegration{}, err
	}
	err = inTx(ctx, h.s, func(tx *store.Tx) error { return store.DeleteEmailIntegration(ctx, tx) })
	if errors.Is(err, store.ErrNotFound) {
		e := NewError(CodeNotFound, "No Resend account is connected in this mode, so there is nothing to disconnect.")
		return EmailIntegration{}, e
	}
	if err != nil {
		return EmailIntegration{}, err
	}
	return EmailIntegration{Object: "email_integration", Mode: string(c.Mode)}, nil
}

// resendIdempotencyKey is the Idempotency-Key an email is sent to Resend with: derived from
// the caller's own idempotency key when the request has one (so a retry of the request,
// even after a crash, reaches Resend as the same send), else from the email's id.
func resendIdempotencyKey(ctx context.Context, c auth.Caller, emailID string) string {
	seed := "email/" + emailID
	if k, ok := idempotencyKeyFrom(ctx); ok {
		seed = "request/" + c.WorkspaceID + "/" + string(c.Mode) + "/" + k
	}
	sum := sha256.Sum256([]byte(seed))
	return "relm-" + hex.EncodeToString(sum[:16])
}

func (h emailHandlers) send(ctx context.Context, in SendEmailInput) (Email, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return Email{}, err
	}
	if in.HTML == "" && in.Text == "" {
		return Email{}, ValidationFailed([]schemas.FieldError{{Field: "html", Message: "give html or text (or both): the email needs a body"}})
	}
	if bad := badAddresses("to", []string(in.To), "reply_to", []string(in.ReplyTo)); len(bad) > 0 {
		return Email{}, ValidationFailed(bad)
	}
	var out Email
	var queued *store.Email
	var integ store.EmailIntegration
	err = inTx(ctx, h.s, func(tx *store.Tx) (err error) {
		integ, err = store.EmailIntegrationOf(ctx, tx)
		if errors.Is(err, store.ErrNotFound) && c.Mode == auth.Live {
			return NewError(CodeIntegrationRequired, "Live email goes through this workspace's own Resend account, and none is connected. "+
				"Connect one with set_email_integration {api_key: \"re_…\", from_email} (PUT /v1/integrations/email), or use a test key, which simulates sends.")
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		from := in.From
		if from == "" {
			from = integ.FromEmail
		}
		if from == "" {
			return ValidationFailed([]schemas.FieldError{{Field: "from", Message: "is required when no integration gives a default from_email"}})
		}
		id := store.NewID("eml_")
		status := store.EmailQueued
		if c.Mode != auth.Live {
			status = store.EmailSimulated
		}
		row, err := store.Insert(ctx, tx, store.Emails, store.Values{"id": id, "from_email": from, "to_emails": []string(in.To), "reply_to": []string(in.ReplyTo),
			"subject": in.Subject, "html": orNil(in.HTML), "body_text": orNil(in.Text), "status": status,
			"resend_idempotency_key": resendIdempotencyKey(ctx, c, id)})
		if err != nil {
			return err
		}
		if c.Mode != auth.Live {
			out = emailOut(row)
			return tx.RecordEvents(ctx, EmailSentEvent(row))
		}
		queued = &row
		// Should this process die before the first attempt is recorded, the queue makes it
		// in a minute (the same Idempotency-Key keeps Resend from sending twice).
		return tx.EnqueueEmail(ctx, id, time.Now().Add(time.Minute))
	})
	if err != nil || queued == nil {
		return out, err
	}
	return h.deliver(ctx, c, integ, *queued)
}

// deliver makes the first attempt at sending a live email: Resend's acceptance records it
// sent (with an email.sent event), a refusal removes it and answers with what to fix, and
// a 429 or 5xx leaves it queued for background retries.
func (h emailHandlers) deliver(ctx context.Context, c auth.Caller, integ store.EmailIntegration, e store.Email) (Email, error) {
	svc, key, err := h.apiKey(ctx, c, integ)
	if err != nil {
		return Email{}, err
	}
	msg := email.Message{From: e.From, To: e.To, Subject: e.Subject, ReplyTo: e.ReplyTo}
	if e.HTML != nil {
		msg.HTML = *e.HTML
	}
	if e.Text != nil {
		msg.Text = *e.Text
	}
	resendID, sendErr := svc.Resend.Send(ctx, key, msg, e.ResendIdempotencyKey)
	var out Email
	var refused error
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		var re *email.Error
		switch {
		case sendErr == nil:
			row, err := store.SetEmailOutcome(ctx, tx, e.ID, store.EmailSent, &resendID, nil)
			if err != nil {
				return err
			}
			out = emailOut(row)
			return tx.RecordEvents(ctx, EmailSentEvent(row))
		case errors.As(sendErr, &re) && re.Retryable():
			text := sendErr.Error()
			row, err := store.SetEmailOutcome(ctx, tx, e.ID, store.EmailQueued, nil, &text)
			if err != nil {
				return err
			}
			out = emailOut(row)
			return tx.EnqueueEmail(ctx, e.ID, time.Now().Add(re.RetryAfter))
		default: // refused: nothing of it is kept
			refused = resendError(sendErr, "")
			_, err := store.Delete(ctx, tx, store.Emails, e.ID)
			return err
		}
	})
	if err == nil && refused != nil {
		return Email{}, refused
	}
	return out, err
}

// resendError is the caller-facing form of a failed Resend call; param names the input
// field at fault when the failure is the caller's (api_key when setting the integration).
func resendError(err error, param string) error {
	var re *email.Error
	if !errors.As(err, &re) {
		return err
	}
	msg := strings.TrimSuffix(re.Message, ".")
	var e *Error
	switch re.Kind() {
	case email.InvalidKey:
		if param == "api_key" {
			e = NewError(CodeValidationFailed, "Resend refused this API key (%s). Create one at resend.com/api-keys and pass it as api_key.", msg)
			e.Param = "api_key"
		} else {
			e = NewError(CodeIntegrationRequired, "Resend refuses the connected API key (%s): it was revoked or deleted. Connect a working key with set_email_integration.", msg)
		}
	case email.RestrictedKey:
		e = NewError(CodeIntegrationRequired, sendingOnlyKey)
	case email.RateLimited, email.ServerError, email.Network:
		e = NewError(CodeProviderUnavailable, "Resend could not take the request right now (%s). Retry in %d seconds.", msg, max(1, int(re.RetryAfter.Seconds())))
		e.RetryAfter = max(1, int(re.RetryAfter.Seconds()))
	case email.NotFound:
		e = NewError(CodeNotFound, "Resend has no such domain in this account (%s). list_email_domains shows the account's domains.", msg)
		e.Param = "id"
	default:
		e = NewError(CodeEmailRejected, "Resend refused the request: %s. Fix it and send again (for a sending domain, add and verify it with add_email_domain and verify_email_domain).", msg)
		if param != "" {
			e.Param = param
		}
	}
	return e
}

// badAddresses checks lists of email addresses (name, list, name, list…), naming each bad
// one by its place (to.1).
func badAddresses(lists ...any) []schemas.FieldError {
	var bad []schemas.FieldError
	for i := 0; i+1 < len(lists); i += 2 {
		name, addrs := lists[i].(string), lists[i+1].([]string)
		for j, a := range addrs {
			if _, err := mail.ParseAddress(a); err != nil {
				bad = append(bad, schemas.FieldError{Field: name + "." + strconv.Itoa(j),
					Message: "is not an email address (write ada@example.com or Ada <ada@example.com>)"})
			}
		}
	}
	return bad
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h emailHandlers) list(ctx context.Context, in ListEmailsInput) (List[Email], error) {
	return h.plainRecords.list(ctx, in.Page, in.Filter, shorthand(map[string]string{"status": in.Status}))
}

func (h emailHandlers) get(ctx context.Context, in EmailIDInput) (Email, error) {
	return h.plainRecords.get(ctx, string(in.ID))
}

func emailTools(s *store.Store) []Tool {
	h := emailHandlers{plainRecords[store.Email, Email]{s: s, table: store.Emails, out: emailOut}}
	return append([]Tool{
		&Capability[NoInput, EmailIntegration]{Info: Info{
			Name: "get_email_integration", Title: "Get email integration", Toolset: "email",
			Description: "Show whether this workspace's Resend account is connected in this mode: configured, from_email, " +
				"verified (the from domain is verified in Resend), the key's access (full or sending_only) and last 4 characters. Returns the integration.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true, OpenWorld: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/integrations/email", Status: http.StatusOK},
		}, Handle: h.getIntegration},
		&Capability[SetEmailIntegrationInput, EmailIntegration]{Info: Info{
			Name: "set_email_integration", Title: "Connect Resend", Toolset: "email",
			Description: "Connect this workspace's own Resend account for sending email in this mode: api_key (re_…, checked with " +
				"Resend in live mode; a sending-only key is accepted, but domain tools need a full-access key) and from_email, the " +
				"default sender. Replaces an earlier connection. The key is stored encrypted and never shown again. Returns the integration.",
			Annotations: Annotations{Destructive: true, Idempotent: true, OpenWorld: true},
			REST:        &Route{Method: http.MethodPut, Path: "/v1/integrations/email", Status: http.StatusOK},
		}, Handle: h.setIntegration},
		&Capability[NoInput, EmailIntegration]{Info: Info{
			Name: "delete_email_integration", Title: "Disconnect Resend", Toolset: "email",
			Description: "Disconnect this workspace's Resend account in this mode; the stored key is erased. Returns the integration, now not configured.",
			Annotations: Annotations{Destructive: true, Idempotent: false},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/integrations/email", Status: http.StatusOK},
		}, Handle: h.deleteIntegration},
		&Capability[SendEmailInput, Email]{Info: Info{
			Name: "send_email", Title: "Send email", Toolset: "email",
			Description: "Send an email through the workspace's Resend account: to (1–50 addresses), subject, html and/or text, " +
				"optional from (default: the integration's from_email) and reply_to. In test mode nothing is sent: the email is " +
				"recorded as simulated. If Resend is busy the email is queued and retried. Returns the email with its status.",
			Annotations: Annotations{OpenWorld: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/emails", Status: http.StatusCreated},
		}, Handle: h.send},
		&Capability[ListEmailsInput, List[Email]]{Info: Info{
			Name: "list_emails", Title: "List emails", Toolset: "email",
			Description: "List the emails sent (or simulated) in this workspace and mode, newest first, with their status. " +
				"Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/emails", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[EmailIDInput, Email]{Info: Info{
			Name: "get_email", Title: "Get email", Toolset: "email",
			Description: "Fetch one email by id (eml_…). Returns it with its status, Resend's id and the error if it failed.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/emails/{id}", Status: http.StatusOK},
		}, Handle: h.get},
	}, emailDomainTools(h)...)
}

// EmailSentEvent is the event an email records once Resend accepts it (or test mode
// simulates it): webhooks deliver it like any other.
func EmailSentEvent(e store.Email) store.NewEvent { return event("email.sent", emailOut(e), nil) }

// EmailKeyBinding is what the API key of the integration of an email job's tenant is
// sealed to.
func EmailKeyBinding(j store.EmailJob) string { return keyBinding(j.Caller()) }

// SealedBinding is what a stored credential was sealed to (for `relm secrets rewrap`).
func SealedBinding(s store.SealedSecret) string {
	c := auth.Caller{WorkspaceID: s.WorkspaceID, Mode: s.Mode}
	if s.Kind == "webhook_endpoint" {
		return WebhookSecretBinding(c, s.ID)
	}
	return keyBinding(c)
}

// Addresses is one email address or a list of them, as Resend takes them.
type Addresses []string

// UnmarshalJSON takes a string or an array of strings.
func (a *Addresses) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Addresses{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// Schema is one address, or a list of 1 to 50. The two forms differ in type, so anyOf
// accepts exactly what oneOf would, and strict function-calling schemas allow it.
func (Addresses) Schema(huma.Registry) *huma.Schema {
	one, many, maxLen := 1, 50, 320
	return &huma.Schema{
		Description: "One address (ada@example.com or Ada <ada@example.com>) or a list of 1 to 50.",
		AnyOf: []*huma.Schema{
			{Type: "string", MinLength: &one, MaxLength: &maxLen},
			{Type: "array", MinItems: &one, MaxItems: &many, Items: &huma.Schema{Type: "string", MinLength: &one, MaxLength: &maxLen}},
		},
	}
}
