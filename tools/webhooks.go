package tools

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
	"github.com/relmcrm/relm/webhooks"
)

// RotationOverlap is how long a rotated-out signing secret keeps signing deliveries.
const RotationOverlap = 24 * time.Hour

// WebhookEndpoint is a URL that receives the events of its workspace and mode.
type WebhookEndpoint struct {
	ID             string    `json:"id" doc:"Unique id, starting with whep_."`
	Object         string    `json:"object" enum:"webhook_endpoint" doc:"Always \"webhook_endpoint\"."`
	URL            string    `json:"url" doc:"Where deliveries are POSTed."`
	Events         []string  `json:"events" doc:"Event types delivered, or [\"*\"] for all."`
	Description    *string   `json:"description"`
	Enabled        bool      `json:"enabled" doc:"Whether events are delivered to it."`
	DisabledReason *string   `json:"disabled_reason" doc:"Why Relm disabled it (it answered 410 Gone); null otherwise."`
	Mode           string    `json:"mode" enum:"live,test" doc:"Only events of this mode are delivered to it."`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// WebhookEndpointWithSecret is an endpoint with its signing secret, shown only when the
// endpoint is created or its secret rotated.
type WebhookEndpointWithSecret struct {
	WebhookEndpoint
	Secret string `json:"secret" doc:"The whsec_… signing secret. It is shown only in this response: store it now."`
}

// CreateWebhookInput is the body of create_webhook.
type CreateWebhookInput struct {
	URL         string   `json:"url" minLength:"1" maxLength:"2048" doc:"Where to POST deliveries. Live mode: an https URL on a public address. Test mode may use http and loopback (http://127.0.0.1:…) for local development."`
	Events      []string `json:"events" minItems:"1" maxItems:"100" uniqueItems:"true" doc:"Event types to deliver (such as contact.created, deal.stage_changed), or [\"*\"] for all."`
	Description *string  `json:"description,omitempty" maxLength:"500"`
	Enabled     *bool    `json:"enabled,omitempty" doc:"Whether to deliver events (default true)."`
}

// UpdateWebhookInput changes only the fields present.
type UpdateWebhookInput struct {
	ID          WebhookEndpointID        `json:"id" doc:"Id of the endpoint (whep_…)."`
	URL         *string                  `json:"url,omitempty" minLength:"1" maxLength:"2048" doc:"New URL (not null: an endpoint always has a URL)."`
	Events      []string                 `json:"events,omitempty" minItems:"1" maxItems:"100" uniqueItems:"true" doc:"New event types, replacing the old."`
	Description schemas.Nullable[string] `json:"description,omitzero" maxLength:"500" doc:"New description, or null to remove it."`
	Enabled     *bool                    `json:"enabled,omitempty" doc:"false stops deliveries; true resumes them (also after a 410 disabled it)."`
}

// WebhookIDInput names one endpoint.
type WebhookIDInput struct {
	ID WebhookEndpointID `json:"id" doc:"Id of the endpoint (whep_…)."`
}

type webhookFilter struct{}

func (webhookFilter) spec() filter.Spec { return store.WebhookEndpoints.Filters }

// ListWebhooksInput pages the endpoint list.
type ListWebhooksInput struct {
	Filter Filter[webhookFilter] `json:"filter,omitempty"`
	Page
}

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID            string           `json:"id" doc:"Unique id, starting with whdl_."`
	Object        string           `json:"object" enum:"webhook_delivery" doc:"Always \"webhook_delivery\"."`
	EndpointID    string           `json:"endpoint_id"`
	EventID       string           `json:"event_id" doc:"The event delivered; its id is the relm-event-id header, the same on every attempt."`
	EventType     string           `json:"event_type"`
	Status        string           `json:"status" enum:"pending,retrying,succeeded,failed" doc:"pending: not tried yet; retrying: failed, next_attempt_at says when it is tried again; succeeded: a 2xx came back; failed: no more attempts (replay sends it again)."`
	AttemptCount  int              `json:"attempt_count" doc:"Attempts made so far, replays included."`
	NextAttemptAt *time.Time       `json:"next_attempt_at" doc:"When the next attempt is due; null when none is planned."`
	Attempts      []WebhookAttempt `json:"attempts" doc:"Every attempt, oldest first."`
	Mode          string           `json:"mode" enum:"live,test"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

// WebhookAttempt is one try at sending a delivery.
type WebhookAttempt struct {
	Number       int       `json:"number" doc:"1 for the first attempt."`
	StatusCode   *int      `json:"status_code" doc:"The receiver's HTTP status; null when no response came."`
	LatencyMS    int       `json:"latency_ms"`
	ResponseBody *string   `json:"response_body" doc:"The first 1 KiB of the response body."`
	Error        *string   `json:"error" doc:"Why the attempt failed (timeout, refused address, non-2xx status); null on success."`
	AttemptedAt  time.Time `json:"attempted_at"`
}

type deliveryFilter struct{}

func (deliveryFilter) spec() filter.Spec { return store.WebhookDeliveries.Filters }

// ListDeliveriesInput pages an endpoint's deliveries.
type ListDeliveriesInput struct {
	ID        WebhookEndpointID      `json:"id" doc:"Id of the endpoint (whep_…)."`
	Status    string                 `json:"status,omitempty" enum:"pending,retrying,succeeded,failed" doc:"Only deliveries with this status."`
	EventType string                 `json:"event_type,omitempty" maxLength:"100" doc:"Only deliveries of this event type."`
	Filter    Filter[deliveryFilter] `json:"filter,omitempty"`
	Page
}

// DeliveryIDInput names one delivery of one endpoint.
type DeliveryIDInput struct {
	ID         WebhookEndpointID `json:"id" doc:"Id of the endpoint (whep_…)."`
	DeliveryID WebhookDeliveryID `json:"delivery_id" doc:"Id of the delivery (whdl_…)."`
}

type webhookHandlers struct {
	plainRecords[store.WebhookEndpoint, WebhookEndpoint]
}

func webhookTools(s *store.Store) []Tool {
	h := webhookHandlers{plainRecords[store.WebhookEndpoint, WebhookEndpoint]{s: s, table: store.WebhookEndpoints, out: webhookOut}}
	return []Tool{
		&Capability[CreateWebhookInput, WebhookEndpointWithSecret]{Info: Info{
			Name: "create_webhook", Title: "Create webhook endpoint", Toolset: "webhooks",
			Description: "Subscribe a url to this workspace's events in the mode of the calling key: every matching event is " +
				"POSTed to it, signed (relm-signature header), retried with backoff for about a day. events lists event types " +
				"(contact.created, deal.stage_changed, …) or [\"*\"]. At most 20 endpoints per workspace and mode. Returns the endpoint " +
				"with its whsec_ signing secret, shown only once.",
			REST:         &Route{Method: http.MethodPost, Path: "/v1/webhooks", Status: http.StatusCreated},
			SecretOutput: true,
		}, Handle: h.create},
		&Capability[ListWebhooksInput, List[WebhookEndpoint]]{Info: Info{
			Name: "list_webhooks", Title: "List webhook endpoints", Toolset: "webhooks",
			Description: "List the webhook endpoints of this workspace and mode, newest first. Secrets are never shown. " +
				"Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/webhooks", Status: http.StatusOK},
		}, Handle: h.list},
		&Capability[WebhookIDInput, WebhookEndpoint]{Info: Info{
			Name: "get_webhook", Title: "Get webhook endpoint", Toolset: "webhooks",
			Description: "Fetch one webhook endpoint by id (whep_…). Returns the endpoint (url, events, enabled, description) without its secret.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/webhooks/{id}", Status: http.StatusOK},
		}, Handle: h.get},
		&Capability[UpdateWebhookInput, WebhookEndpoint]{Info: Info{
			Name: "update_webhook", Title: "Update webhook endpoint", Toolset: "webhooks",
			Description: "Change the webhook endpoint with id (whep_…): url, events (replaced), description, enabled (false pauses deliveries; " +
				"true resumes, also after a 410 Gone disabled it). Only the fields you pass change. Returns the endpoint.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodPatch, Path: "/v1/webhooks/{id}", Status: http.StatusOK},
		}, Handle: h.update},
		&Capability[WebhookIDInput, Deleted]{Info: Info{
			Name: "delete_webhook", Title: "Delete webhook endpoint", Toolset: "webhooks",
			Description: "Delete a webhook endpoint and its delivery history; nothing more is sent to it. Returns {id, object, deleted: true}.",
			Annotations: Annotations{Destructive: true, Idempotent: true},
			REST:        &Route{Method: http.MethodDelete, Path: "/v1/webhooks/{id}", Status: http.StatusOK},
		}, Handle: h.remove},
		&Capability[WebhookIDInput, WebhookEndpointWithSecret]{Info: Info{
			Name: "rotate_webhook_secret", Title: "Rotate webhook signing secret", Toolset: "webhooks",
			Description: "Give the webhook endpoint with id (whep_…) a new signing secret. For 24 hours deliveries carry two signatures (v1= for " +
				"the new secret first, then the old), so the receiver can switch over. Returns the endpoint with the new secret, shown only once.",
			REST:         &Route{Method: http.MethodPost, Path: "/v1/webhooks/{id}/rotate_secret", Status: http.StatusOK},
			SecretOutput: true,
		}, Handle: h.rotate},
		&Capability[ListDeliveriesInput, List[WebhookDelivery]]{Info: Info{
			Name: "list_webhook_deliveries", Title: "List webhook deliveries", Toolset: "webhooks",
			Description: "List the deliveries of the webhook endpoint with id (whep_…), newest first, each with its status (pending, retrying, " +
				"succeeded, failed) and attempts (response status, latency, first 1 KiB of the body). Filter by status and event_type. " +
				"Returns {data, has_more, next_cursor}.",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/webhooks/{id}/deliveries", Status: http.StatusOK},
		}, Handle: h.deliveries},
		&Capability[DeliveryIDInput, WebhookDelivery]{Info: Info{
			Name: "get_webhook_delivery", Title: "Get webhook delivery", Toolset: "webhooks",
			Description: "Fetch one delivery of a webhook endpoint: id is the endpoint's (whep_…), delivery_id the delivery's (whdl_…). " +
				"Returns the delivery with its status and every attempt (status code, latency, first 1 KiB of the response).",
			Annotations: Annotations{ReadOnly: true, Idempotent: true},
			REST:        &Route{Method: http.MethodGet, Path: "/v1/webhooks/{id}/deliveries/{delivery_id}", Status: http.StatusOK},
		}, Handle: h.delivery},
		&Capability[DeliveryIDInput, WebhookDelivery]{Info: Info{
			Name: "replay_webhook_delivery", Title: "Replay webhook delivery", Toolset: "webhooks",
			Description: "Send the event of a delivery (delivery_id, whdl_…) to its endpoint (id, whep_…) again now, whatever its status, as a new attempt (same event " +
				"id and body, fresh signature). The attempt runs in the background within a second or so; get_webhook_delivery " +
				"shows its result. Returns the delivery as it is now.",
			Annotations: Annotations{OpenWorld: true},
			REST:        &Route{Method: http.MethodPost, Path: "/v1/webhooks/{id}/replay/{delivery_id}", Status: http.StatusAccepted},
		}, Handle: h.replay},
	}
}

func webhookOut(w store.WebhookEndpoint) WebhookEndpoint {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	return WebhookEndpoint{ID: w.ID, Object: "webhook_endpoint", URL: w.URL, Events: events, Description: w.Description,
		Enabled: w.Enabled, DisabledReason: w.DisabledReason, Mode: string(w.Mode), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
}

func deliveryOut(d store.WebhookDelivery, attempts []store.WebhookAttempt) WebhookDelivery {
	out := WebhookDelivery{ID: d.ID, Object: "webhook_delivery", EndpointID: d.EndpointID, EventID: d.EventID, EventType: d.EventType,
		Status: d.Status, AttemptCount: d.AttemptCount, Attempts: make([]WebhookAttempt, len(attempts)), Mode: string(d.Mode),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.NextAttemptAt != nil && d.Status != store.DeliverySucceeded && d.Status != store.DeliveryFailed {
		at := d.NextAttemptAt.UTC()
		out.NextAttemptAt = &at
	}
	for i, a := range attempts {
		out.Attempts[i] = WebhookAttempt{Number: a.Number, StatusCode: a.StatusCode, LatencyMS: a.LatencyMS,
			ResponseBody: a.ResponseBody, Error: a.Error, AttemptedAt: a.CreatedAt.UTC()}
	}
	return out
}

// checkWebhook refuses a URL or event types the endpoint cannot have.
func checkWebhook(ctx context.Context, url *string, events []string) error {
	c, err := callerOf(ctx)
	if err != nil {
		return err
	}
	var bad []schemas.FieldError
	if url != nil {
		if err := webhooks.CheckURL(*url, c.Mode == auth.Live); err != nil {
			bad = append(bad, schemas.FieldError{Field: "url", Message: err.Error()})
		}
	}
	for i, t := range events {
		if t != "*" && !slices.Contains(EventTypes, t) {
			e := NewError(CodeValidationFailed, "Invalid input: events.%d %q is not an event type. Use one of the valid options, or \"*\" for all.", i, t)
			e.Param, e.ValidOptions, e.Suggestion = "events."+strconv.Itoa(i), append([]string{"*"}, EventTypes...), closest(t, EventTypes)
			return e
		}
	}
	if len(bad) > 0 {
		return ValidationFailed(bad)
	}
	return nil
}

func (h webhookHandlers) create(ctx context.Context, in CreateWebhookInput) (WebhookEndpointWithSecret, error) {
	if err := checkWebhook(ctx, &in.URL, in.Events); err != nil {
		return WebhookEndpointWithSecret{}, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	secret := webhooks.NewSecret()
	id := store.NewID(store.WebhookEndpoints.Prefix)
	sealed, err := sealWebhookSecret(ctx, id, secret)
	if err != nil {
		return WebhookEndpointWithSecret{}, err
	}
	var out WebhookEndpointWithSecret
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		w, err := store.InsertWebhookEndpoint(ctx, tx, store.Values{"id": id, "url": in.URL, "events": in.Events,
			"description": in.Description, "enabled": enabled, "secret": sealed})
		out = WebhookEndpointWithSecret{WebhookEndpoint: webhookOut(w), Secret: secret}
		return err
	})
	return out, h.fail(err, "")
}

func (h webhookHandlers) get(ctx context.Context, in WebhookIDInput) (WebhookEndpoint, error) {
	return h.plainRecords.get(ctx, string(in.ID))
}

func (h webhookHandlers) list(ctx context.Context, in ListWebhooksInput) (List[WebhookEndpoint], error) {
	return h.plainRecords.list(ctx, in.Page, in.Filter)
}

func (h webhookHandlers) update(ctx context.Context, in UpdateWebhookInput) (WebhookEndpoint, error) {
	if err := checkWebhook(ctx, in.URL, in.Events); err != nil {
		return WebhookEndpoint{}, err
	}
	ch := store.Changes{Set: map[string]any{}}
	setPtr(ch.Set, "url", in.URL)
	setIf(ch.Set, "description", in.Description)
	if in.Events != nil {
		ch.Set["events"] = in.Events
	}
	if in.Enabled != nil {
		ch.Set["enabled"] = *in.Enabled
		if *in.Enabled {
			ch.Set["disabled_reason"] = nil
		}
	}
	var out WebhookEndpoint
	err := inTx(ctx, h.s, func(tx *store.Tx) error {
		_, after, err := store.Update(ctx, tx, store.WebhookEndpoints, string(in.ID), func(store.WebhookEndpoint) (store.Changes, error) { return ch, nil })
		out = webhookOut(after)
		return err
	})
	return out, h.fail(err, string(in.ID))
}

func (h webhookHandlers) remove(ctx context.Context, in WebhookIDInput) (Deleted, error) {
	return h.plainRecords.remove(ctx, string(in.ID))
}

func (h webhookHandlers) rotate(ctx context.Context, in WebhookIDInput) (WebhookEndpointWithSecret, error) {
	secret := webhooks.NewSecret()
	sealed, err := sealWebhookSecret(ctx, string(in.ID), secret)
	if err != nil {
		return WebhookEndpointWithSecret{}, err
	}
	var out WebhookEndpointWithSecret
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		_, after, err := store.Update(ctx, tx, store.WebhookEndpoints, string(in.ID), func(cur store.WebhookEndpoint) (store.Changes, error) {
			return store.Changes{Set: map[string]any{"secret": sealed, "previous_secret": cur.Secret,
				"previous_secret_expires_at": time.Now().Add(RotationOverlap)}}, nil
		})
		out = WebhookEndpointWithSecret{WebhookEndpoint: webhookOut(after), Secret: secret}
		return err
	})
	return out, h.fail(err, string(in.ID))
}

func (h webhookHandlers) deliveries(ctx context.Context, in ListDeliveriesInput) (List[WebhookDelivery], error) {
	var out List[WebhookDelivery]
	after, err := in.Page.after(ctx)
	if err != nil {
		return out, err
	}
	err = inTx(ctx, h.s, func(tx *store.Tx) error {
		if _, err := store.Get(ctx, tx, store.WebhookEndpoints, string(in.ID)); err != nil {
			return err
		}
		filters := []map[string]any{in.Filter, {"endpoint_id": string(in.ID)}, shorthand(map[string]string{"status": in.Status, "event_type": in.EventType})}
		p, err := store.List(ctx, tx, store.WebhookDeliveries, store.ListParams{Filters: filters, Limit: in.Limit, After: after})
		if err != nil {
			return err
		}
		ids := make([]string, len(p.Items))
		for i, d := range p.Items {
			ids[i] = d.ID
		}
		attempts, err := store.WebhookAttempts(ctx, tx, ids)
		if err != nil {
			return err
		}
		out, err = listOf(ctx, p, func(d store.WebhookDelivery) WebhookDelivery { return deliveryOut(d, attempts[d.ID]) })
		return err
	})
	return out, h.fail(err, string(in.ID))
}

// loadDelivery reads the tenant's delivery id of endpoint with its attempts.
func loadDelivery(ctx context.Context, tx *store.Tx, endpoint, id string) (WebhookDelivery, error) {
	d, err := store.Get(ctx, tx, store.WebhookDeliveries, id)
	if err != nil || d.EndpointID != endpoint {
		return WebhookDelivery{}, NotFound("webhook_delivery", id)
	}
	attempts, err := store.WebhookAttempts(ctx, tx, []string{id})
	return deliveryOut(d, attempts[id]), err
}

func (h webhookHandlers) delivery(ctx context.Context, in DeliveryIDInput) (WebhookDelivery, error) {
	var out WebhookDelivery
	err := inTx(ctx, h.s, func(tx *store.Tx) (err error) {
		out, err = loadDelivery(ctx, tx, string(in.ID), string(in.DeliveryID))
		return err
	})
	return out, h.fail(err, string(in.ID))
}

func (h webhookHandlers) replay(ctx context.Context, in DeliveryIDInput) (WebhookDelivery, error) {
	var out WebhookDelivery
	err := inTx(ctx, h.s, func(tx *store.Tx) (err error) {
		if out, err = loadDelivery(ctx, tx, string(in.ID), string(in.DeliveryID)); err != nil {
			return err
		}
		return tx.EnqueueDeliveries(ctx, []string{string(in.DeliveryID)}, time.Time{}, true)
	})
	return out, h.fail(err, string(in.ID))
}

// fail maps a store failure about endpoint id onto the caller-facing error.
func (h webhookHandlers) fail(err error, id string) error {
	if errors.Is(err, store.ErrTooManyEndpoints) {
		return NewError(CodeLimitReached, "This workspace already has %d webhook endpoints in this mode, as many as it may. "+
			"Subscribe an existing endpoint to more events (update_webhook events), or delete one you no longer use.", store.MaxWebhookEndpoints)
	}
	return h.plainRecords.fail(err, id)
}

// WebhookSecretBinding is what endpoint id's signing secret is sealed to: its tenant and
// itself.
func WebhookSecretBinding(c auth.Caller, id string) string {
	return "webhook_endpoint/" + c.WorkspaceID + "/" + string(c.Mode) + "/" + id
}

// sealWebhookSecret seals endpoint id's signing secret for storage.
func sealWebhookSecret(ctx context.Context, id, secret string) (string, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return "", err
	}
	svc, err := emailServices(ctx)
	if err != nil {
		return "", err
	}
	sealed, err := svc.Box.Seal([]byte(secret), WebhookSecretBinding(c, id))
	if err != nil {
		return "", sealError(err)
	}
	return sealed, nil
}

// WebhookSecretOpener opens the sealed signing secrets of endpoints for the delivery
// engine (webhooks.Options.Open).
func WebhookSecretOpener(box *secrets.Box) func(c auth.Caller, endpoint, sealed string) (string, error) {
	return func(c auth.Caller, endpoint, sealed string) (string, error) {
		b, err := box.Open(sealed, WebhookSecretBinding(c, endpoint))
		return string(b), err
	}
}
