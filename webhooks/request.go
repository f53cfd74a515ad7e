package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Headers of every delivery, besides content-type and user-agent. Header names are
// case-insensitive; receivers in most frameworks see them in lower case.
const (
	HeaderSignature = "relm-signature"  // Sign's value: t=<unix>,v1=<hex>[,v1=<hex>]
	HeaderEventID   = "relm-event-id"   // the event's id, the same on every attempt: deduplicate on it
	HeaderEventType = "relm-event-type" // such as contact.created
)

// Message is one event on its way to one endpoint.
type Message struct {
	URL       string
	EventID   string
	EventType string
	Body      []byte   // the event as JSON, sent and signed byte for byte
	Secrets   []string // the endpoint's signing secrets, newest first (two during a rotation)
}

// NewRequest builds the POST that delivers m, signed at now; version names the server in
// the user-agent (Relm-Webhooks/<version>). Each attempt needs a request of its own,
// signed when it is sent.
func NewRequest(ctx context.Context, m Message, version string, now time.Time) (*http.Request, error) {
	if len(m.Secrets) == 0 {
		return nil, errors.New("webhooks: a delivery needs at least one signing secret")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return nil, fmt.Errorf("webhooks: building the delivery request: %w", err)
	}
	h := req.Header
	h.Set(HeaderSignature, Sign(m.Body, now, m.Secrets...))
	h.Set(HeaderEventID, m.EventID)
	h.Set(HeaderEventType, m.EventType)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Relm-Webhooks/"+version)
	return req, nil
}
