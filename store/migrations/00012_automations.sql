-- Automation rules, their runs (one per rule and event: the exactly-once guard), and the
-- events' depth and cause (the loop guard and the attribution of automated changes).
-- +goose Up
CREATE TABLE automations (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode          relm_mode NOT NULL,
    name          text NOT NULL,
    trigger_event text NOT NULL,
    enabled       boolean NOT NULL DEFAULT true,
    conditions    jsonb NOT NULL DEFAULT '[]',
    actions       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, mode, id)
);
CREATE INDEX automations_list ON automations (workspace_id, mode, created_at DESC, id DESC);

CREATE TABLE automation_runs (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL,
    mode          relm_mode NOT NULL,
    automation_id text NOT NULL,
    event_id      text NOT NULL,
    event_type    text NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'success', 'error', 'skipped')),
    reason        text,
    failed_action int,
    results       jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (automation_id, event_id),
    FOREIGN KEY (workspace_id, mode, automation_id) REFERENCES automations (workspace_id, mode, id) ON DELETE CASCADE
);
CREATE INDEX automation_runs_list ON automation_runs (workspace_id, mode, automation_id, created_at DESC, id DESC);

-- depth: 0 for a change made through the API, n+1 for one made by a run for an event of
-- depth n; caused_by: the rule and run that made it.
ALTER TABLE events ADD COLUMN depth int NOT NULL DEFAULT 0, ADD COLUMN caused_by jsonb;

SELECT relm_protect_tenant_table(t) FROM unnest(ARRAY['automations', 'automation_runs']::regclass[]) AS t;

-- +goose Down
ALTER TABLE events DROP COLUMN depth, DROP COLUMN caused_by;
DROP TABLE automation_runs, automations;
