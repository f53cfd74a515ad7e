// Package webhooks holds the parts of webhook delivery that need no database: secrets and
// signatures (relm-signature), the signed request, the checks that keep deliveries off
// private networks (CheckURL when an endpoint is saved, Client when it connects), the
// outcome of one attempt, and the retry schedule. The delivery contract it defines is
// documented in docs/webhooks.md.
package webhooks
