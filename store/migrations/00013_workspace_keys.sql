-- Every key of a tenant table includes workspace_id, so the tables can be distributed by
-- workspace (docs/scaling.md; store's TestKeysIncludeWorkspace checks it). Primary keys on
-- id become (workspace_id, id), keeping their names; the (workspace_id, mode, id) tenant keys
-- that foreign keys reference stay as they are. Rebuilding the keys locks each table for
-- the time its index build takes.
-- +goose Up

-- The one foreign key to a key that changes: a rate window referenced api_keys (id).
ALTER TABLE rate_windows DROP CONSTRAINT rate_windows_key_id_fkey;

-- relm_authenticate finds a key by its hash before any tenant is known, and the CLI revokes
-- a key by id alone: both keep an index, no longer unique. A hash is of a secret with about
-- 190 random bits (auth.GenerateKey), so two keys never share one.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey, DROP CONSTRAINT api_keys_secret_hash_key,
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (workspace_id, id);
CREATE INDEX api_keys_secret_hash ON api_keys (secret_hash);
CREATE INDEX api_keys_id ON api_keys (id);

ALTER TABLE contacts DROP CONSTRAINT contacts_pkey, ADD CONSTRAINT contacts_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE companies DROP CONSTRAINT companies_pkey, ADD CONSTRAINT companies_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE deals DROP CONSTRAINT deals_pkey, ADD CONSTRAINT deals_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE activities DROP CONSTRAINT activities_pkey, ADD CONSTRAINT activities_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE request_logs DROP CONSTRAINT request_logs_pkey, ADD CONSTRAINT request_logs_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE custom_fields DROP CONSTRAINT custom_fields_pkey, ADD CONSTRAINT custom_fields_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE associations DROP CONSTRAINT associations_pkey, ADD CONSTRAINT associations_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_pkey, ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_pkey,
    ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (workspace_id, delivery_id, number);
ALTER TABLE emails DROP CONSTRAINT emails_pkey, ADD CONSTRAINT emails_pkey PRIMARY KEY (workspace_id, id);
ALTER TABLE automations DROP CONSTRAINT automations_pkey, ADD CONSTRAINT automations_pkey PRIMARY KEY (workspace_id, id);
-- One run per rule and event: a rule and its events are of one workspace.
ALTER TABLE automation_runs DROP CONSTRAINT automation_runs_pkey, DROP CONSTRAINT automation_runs_automation_id_event_id_key,
    ADD CONSTRAINT automation_runs_pkey PRIMARY KEY (workspace_id, id),
    ADD CONSTRAINT automation_runs_once UNIQUE (workspace_id, automation_id, event_id);

-- One rate window per key, keyed and referencing within the workspace.
ALTER TABLE rate_windows DROP CONSTRAINT rate_windows_pkey,
    ADD CONSTRAINT rate_windows_pkey PRIMARY KEY (workspace_id, key_id),
    ADD CONSTRAINT rate_windows_key_id_fkey FOREIGN KEY (workspace_id, key_id)
        REFERENCES api_keys (workspace_id, id) ON DELETE CASCADE;

-- +goose Down
ALTER TABLE rate_windows DROP CONSTRAINT rate_windows_key_id_fkey, DROP CONSTRAINT rate_windows_pkey,
    ADD CONSTRAINT rate_windows_pkey PRIMARY KEY (key_id);
ALTER TABLE automation_runs DROP CONSTRAINT automation_runs_once, DROP CONSTRAINT automation_runs_pkey,
    ADD CONSTRAINT automation_runs_pkey PRIMARY KEY (id),
    ADD CONSTRAINT automation_runs_automation_id_event_id_key UNIQUE (automation_id, event_id);
ALTER TABLE automations DROP CONSTRAINT automations_pkey, ADD CONSTRAINT automations_pkey PRIMARY KEY (id);
ALTER TABLE emails DROP CONSTRAINT emails_pkey, ADD CONSTRAINT emails_pkey PRIMARY KEY (id);
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_pkey, ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, number);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_pkey, ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);
ALTER TABLE associations DROP CONSTRAINT associations_pkey, ADD CONSTRAINT associations_pkey PRIMARY KEY (id);
ALTER TABLE custom_fields DROP CONSTRAINT custom_fields_pkey, ADD CONSTRAINT custom_fields_pkey PRIMARY KEY (id);
ALTER TABLE request_logs DROP CONSTRAINT request_logs_pkey, ADD CONSTRAINT request_logs_pkey PRIMARY KEY (id);
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE activities DROP CONSTRAINT activities_pkey, ADD CONSTRAINT activities_pkey PRIMARY KEY (id);
ALTER TABLE deals DROP CONSTRAINT deals_pkey, ADD CONSTRAINT deals_pkey PRIMARY KEY (id);
ALTER TABLE companies DROP CONSTRAINT companies_pkey, ADD CONSTRAINT companies_pkey PRIMARY KEY (id);
ALTER TABLE contacts DROP CONSTRAINT contacts_pkey, ADD CONSTRAINT contacts_pkey PRIMARY KEY (id);
DROP INDEX api_keys_id, api_keys_secret_hash;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey,
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id), ADD CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash);
ALTER TABLE rate_windows ADD CONSTRAINT rate_windows_key_id_fkey FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE;
