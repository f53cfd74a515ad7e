package email

import (
	"context"
	"net/http"
)

// Access is what a Resend API key may do, named as Resend names its permissions.
type Access string

const (
	// FullAccess keys may send and manage domains.
	FullAccess Access = "full_access"
	// SendingOnly keys may only send: Relm accepts them, but domain calls fail with
	// RestrictedKey.
	SendingOnly Access = "sending_access"
)

// CheckKey reports what apiKey may do, by listing the account's domains: success means
// FullAccess, Resend's restricted_api_key means SendingOnly. A missing, unknown or
// disabled key is an *Error of kind InvalidKey; other failures are returned as they are.
func (c *Client) CheckKey(ctx context.Context, apiKey string) (Access, error) {
	err := c.do(ctx, apiKey, call{method: http.MethodGet, path: "/domains"}, nil)
	switch {
	case err == nil:
		return FullAccess, nil
	case KindOf(err) == RestrictedKey:
		return SendingOnly, nil
	}
	return "", err
}
