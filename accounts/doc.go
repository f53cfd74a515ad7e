// Package accounts signs people in to the dashboard: one-time email codes and their
// confirm links, Google sign-in through OpenID Connect, server-side sessions, invitations
// and the mail that carries codes and invitations (SMTP, the operator's Resend account, or
// .eml files in a directory). Users, sessions and memberships live in Postgres (store).
package accounts
