// Package docs embeds the project's prose documents that the server quotes on its own
// pages (package docsite): the error codes and the webhook contract. They stay Markdown
// files that read well on their own; tests keep them in step with the code.
package docs

import _ "embed"

// Errors is docs/errors.md: the error body and every error code with its status.
//
//go:embed errors.md
var Errors string

// Webhooks is docs/webhooks.md: what a delivery carries and how to verify its signature.
//
//go:embed webhooks.md
var Webhooks string
