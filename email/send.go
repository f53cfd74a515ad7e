package email

import (
	"context"
	"errors"
	"net/http"
)

// Message is one email to send through Resend.
type Message struct {
	// From is "address" or "Name <address>"; its domain must be verified in the account.
	From    string   `json:"from"`
	To      []string `json:"to"` // at most 50
	Subject string   `json:"subject"`
	// HTML and Text are the bodies; at least one is required. Without Text, Resend derives
	// a plain-text version from HTML.
	HTML    string   `json:"html,omitempty"`
	Text    string   `json:"text,omitempty"`
	ReplyTo []string `json:"reply_to,omitempty"`
}

// Send sends msg with apiKey (POST /emails) and returns Resend's id for the email. With an
// idempotencyKey (1 to 256 characters), Resend sends at most once per key and body within
// 24 hours: a retry with the same key and message returns the first id, the same key with
// another message fails with Conflict.
func (c *Client) Send(ctx context.Context, apiKey string, msg Message, idempotencyKey string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	cl := call{method: http.MethodPost, path: "/emails", body: msg, idempotencyKey: idempotencyKey}
	if err := c.do(ctx, apiKey, cl, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("email: Resend accepted the email but returned no id")
	}
	return out.ID, nil
}
