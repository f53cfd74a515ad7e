-- +goose Up
-- Custom fields: typed keys of the metadata of one object type, per workspace and mode.
-- Values stay in each record's metadata; these rows only say how writes validate them and
-- how filters compare them. Deleting a definition rewrites no record.
CREATE TABLE custom_fields (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    object_type  text NOT NULL CHECK (object_type IN ('contact', 'company', 'deal', 'activity')),
    key          text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
    label        text NOT NULL,
    type         text NOT NULL CHECK (type IN ('text', 'number', 'date', 'bool', 'select')),
    options      text[] NOT NULL DEFAULT '{}',
    description  text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT custom_fields_key UNIQUE (workspace_id, mode, object_type, key),
    -- select fields and only they carry options.
    CONSTRAINT custom_fields_options CHECK ((type = 'select') = (cardinality(options) > 0))
);

-- The version of each tenant's custom field definitions: every definition change bumps it
-- in the same transaction, so any server process can tell whether the schemas it compiled
-- and cached are still current by reading one row. No row means version 0 (no change yet).
CREATE TABLE custom_field_versions (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    version      bigint NOT NULL,
    PRIMARY KEY (workspace_id, mode)
);

-- Metadata equality and in (custom fields or not) are containment tests (metadata @> ...):
-- a GIN index answers a rare or absent value from the index instead of scanning the
-- tenant's rows (measured in docs/api.md, "Custom fields"). Range filters on a custom
-- field need a per-key expression index, which is not created automatically.
CREATE INDEX contacts_metadata ON contacts USING gin (metadata jsonb_path_ops);
CREATE INDEX companies_metadata ON companies USING gin (metadata jsonb_path_ops);
CREATE INDEX deals_metadata ON deals USING gin (metadata jsonb_path_ops);
CREATE INDEX activities_metadata ON activities USING gin (metadata jsonb_path_ops);

-- +goose Down
DROP INDEX activities_metadata;
DROP INDEX deals_metadata;
DROP INDEX companies_metadata;
DROP INDEX contacts_metadata;
DROP TABLE custom_field_versions;
DROP TABLE custom_fields;
