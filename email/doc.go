// Package email is Relm's client for Resend, the email API each workspace connects with its
// own API key: checking a key (CheckKey), sending (Send, with idempotency keys) and the
// account's sending domains (ListDomains, CreateDomain, GetDomain, VerifyDomain, plus the
// DMARC record Resend does not return). Every failure is an *Error whose Kind says what the
// caller can do about it. Package email/resendtest is a fake Resend for tests. The
// endpoints used, the error classification and the fake's limits are described in
// docs/email-resend.md.
package email
