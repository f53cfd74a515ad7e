-- +goose Up
CREATE TYPE relm_mode AS ENUM ('live', 'test');

CREATE TABLE workspaces (
    id         text PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored only as a SHA-256 hash of the secret; prefix and last4 identify a key
-- to humans without revealing it.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    last4        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, mode);

CREATE TABLE contacts (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    email        text,
    first_name   text,
    last_name    text,
    phone        text,
    company_id   text,
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Email is unique per workspace and mode, case-insensitively, when present.
CREATE UNIQUE INDEX contacts_email ON contacts (workspace_id, mode, lower(email)) WHERE email IS NOT NULL;
-- Keyset pagination: newest first within a tenant.
CREATE INDEX contacts_page ON contacts (workspace_id, mode, created_at DESC, id DESC);
CREATE INDEX contacts_company ON contacts (workspace_id, mode, company_id, created_at DESC, id DESC) WHERE company_id IS NOT NULL;

-- +goose Down
DROP TABLE contacts;
DROP TABLE api_keys;
DROP TABLE workspaces;
DROP TYPE relm_mode;
