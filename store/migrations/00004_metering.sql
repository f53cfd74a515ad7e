-- +goose Up
ALTER TABLE workspaces ADD COLUMN plan text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'team'));

-- The rate limiter's fixed window, one row per API key: which window the key is in and how
-- many requests it made in it. Shared by every server process; not tenant data.
CREATE TABLE rate_windows (
    key_id       text PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    count        bigint NOT NULL CHECK (count >= 0)
);

-- Live requests per workspace and calendar month (UTC), for the plan's quota. Test mode is
-- not metered, so mode is always live; the column keeps the tenant shape of every table.
CREATE TABLE usage_counters (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL CHECK (mode = 'live'),
    period       date NOT NULL,
    count        bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (workspace_id, mode, period)
);

-- One row per REST request and per MCP tool call. Never bodies, query strings or secrets:
-- the route pattern, the tool name, the outcome and the key id only.
CREATE TABLE request_logs (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    request_id   text NOT NULL,
    surface      text NOT NULL CHECK (surface IN ('rest', 'mcp')),
    method       text,
    path         text,
    tool         text,
    status       int NOT NULL,
    error_code   text,
    latency_ms   bigint NOT NULL,
    key_id       text NOT NULL,
    created_at   timestamptz NOT NULL -- when the request arrived
);
CREATE INDEX request_logs_page ON request_logs (workspace_id, mode, created_at DESC, id DESC);
-- Retention deletes by age across tenants; rows arrive in about created_at order, so BRIN suffices.
CREATE INDEX request_logs_created ON request_logs USING brin (created_at);

-- +goose Down
DROP TABLE request_logs;
DROP TABLE usage_counters;
DROP TABLE rate_windows;
ALTER TABLE workspaces DROP COLUMN plan;
