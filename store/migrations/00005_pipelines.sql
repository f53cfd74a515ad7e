-- +goose Up
-- Pipelines and stages become manageable. The application keeps positions dense (0..n-1)
-- and these constraints are the backstop: keys are identifiers, positions are a total order
-- (checked at commit, since reordering moves several rows), and a stage is not both won and lost.
ALTER TABLE pipelines
    ADD CONSTRAINT pipelines_key_format CHECK (key ~ '^[a-z][a-z0-9_]{0,49}$'),
    ADD CONSTRAINT pipelines_position_check CHECK (position >= 0),
    ADD CONSTRAINT pipelines_position UNIQUE (workspace_id, mode, position) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE pipeline_stages
    ADD CONSTRAINT pipeline_stages_key_format CHECK (key ~ '^[a-z][a-z0-9_]{0,49}$'),
    ADD CONSTRAINT pipeline_stages_position_check CHECK (position >= 0),
    ADD CONSTRAINT pipeline_stages_won_or_lost CHECK (NOT (is_won AND is_lost)),
    ADD CONSTRAINT pipeline_stages_position UNIQUE (workspace_id, mode, pipeline, position) DEFERRABLE INITIALLY DEFERRED;

-- ON CONFLICT without a target would take the deferrable constraints above as arbiters,
-- which Postgres refuses: name the primary keys.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION seed_default_pipeline(ws text, m relm_mode) RETURNS void LANGUAGE sql AS $$
    INSERT INTO pipelines (workspace_id, mode, key, label, position, is_default)
    VALUES (ws, m, 'sales', 'Sales', 0, true)
    ON CONFLICT (workspace_id, mode, key) DO NOTHING;
    INSERT INTO pipeline_stages (workspace_id, mode, pipeline, key, label, position, is_won, is_lost)
    VALUES (ws, m, 'sales', 'lead', 'Lead', 0, false, false),
           (ws, m, 'sales', 'qualified', 'Qualified', 1, false, false),
           (ws, m, 'sales', 'proposal', 'Proposal', 2, false, false),
           (ws, m, 'sales', 'won', 'Won', 3, true, false),
           (ws, m, 'sales', 'lost', 'Lost', 4, false, true)
    ON CONFLICT (workspace_id, mode, pipeline, key) DO NOTHING;
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE pipeline_stages
    DROP CONSTRAINT pipeline_stages_position,
    DROP CONSTRAINT pipeline_stages_won_or_lost,
    DROP CONSTRAINT pipeline_stages_position_check,
    DROP CONSTRAINT pipeline_stages_key_format;
ALTER TABLE pipelines
    DROP CONSTRAINT pipelines_position,
    DROP CONSTRAINT pipelines_position_check,
    DROP CONSTRAINT pipelines_key_format;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION seed_default_pipeline(ws text, m relm_mode) RETURNS void LANGUAGE sql AS $$
    INSERT INTO pipelines (workspace_id, mode, key, label, position, is_default)
    VALUES (ws, m, 'sales', 'Sales', 0, true)
    ON CONFLICT DO NOTHING;
    INSERT INTO pipeline_stages (workspace_id, mode, pipeline, key, label, position, is_won, is_lost)
    VALUES (ws, m, 'sales', 'lead', 'Lead', 0, false, false),
           (ws, m, 'sales', 'qualified', 'Qualified', 1, false, false),
           (ws, m, 'sales', 'proposal', 'Proposal', 2, false, false),
           (ws, m, 'sales', 'won', 'Won', 3, true, false),
           (ws, m, 'sales', 'lost', 'Lost', 4, false, true)
    ON CONFLICT DO NOTHING;
$$;
-- +goose StatementEnd
