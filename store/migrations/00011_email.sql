-- The email integration of a workspace and mode (its own Resend account, its API key sealed
-- under the server secret: package secrets), and every email sent or simulated through it.
-- +goose Up
CREATE TABLE email_integrations (
    workspace_id   text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode           relm_mode NOT NULL,
    api_key_sealed text NOT NULL,
    api_key_last4  text NOT NULL,
    from_email     text NOT NULL,
    -- full: the key may manage domains; sending_only: a restricted key that may only send.
    access         text NOT NULL CHECK (access IN ('full', 'sending_only', 'unchecked')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, mode)
);

CREATE TABLE emails (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode            relm_mode NOT NULL,
    from_email      text NOT NULL,
    to_emails       text[] NOT NULL,
    reply_to        text[],
    subject         text NOT NULL,
    html            text,
    body_text       text,
    status          text NOT NULL CHECK (status IN ('queued', 'sent', 'simulated', 'failed')),
    resend_id       text,
    error           text,
    attempt_count   int NOT NULL DEFAULT 0,
    -- The Idempotency-Key sent to Resend: the same for every attempt of this email.
    resend_idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emails_list ON emails (workspace_id, mode, created_at DESC, id DESC);

SELECT relm_protect_tenant_table(t) FROM unnest(ARRAY['email_integrations', 'emails']::regclass[]) AS t;

-- +goose Down
DROP TABLE emails, email_integrations;
