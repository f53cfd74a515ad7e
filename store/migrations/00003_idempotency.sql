-- +goose Up
-- Responses remembered by Idempotency-Key (REST) or idempotency_key (MCP), per workspace and
-- mode, for 24 hours. A row is claimed (in_progress) in its own committed transaction before
-- the request runs, so concurrent requests with the same key see it; it becomes done with the
-- response once the request finishes (5xx responses delete it instead, so a retry can run).
CREATE TABLE idempotency_keys (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    state        text NOT NULL CHECK (state IN ('in_progress', 'done')),
    status       int,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, mode, key)
);
-- Purging expired keys scans by age across tenants.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
