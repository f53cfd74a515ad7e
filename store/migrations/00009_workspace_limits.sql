-- A workspace's keys share a rate ceiling per mode: one fixed window per workspace and mode,
-- counted in the same statement as the key's own window (store.Meter).
-- +goose Up
CREATE TABLE workspace_rate_windows (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    window_start timestamptz NOT NULL,
    count        bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (workspace_id, mode)
);
GRANT SELECT, INSERT, UPDATE ON workspace_rate_windows TO relm_app;
ALTER TABLE workspace_rate_windows ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON workspace_rate_windows TO relm_app
    USING (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode())
    WITH CHECK (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode());

-- +goose Down
DROP TABLE workspace_rate_windows;
