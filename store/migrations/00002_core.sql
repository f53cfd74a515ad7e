-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Composite keys let references carry the tenant, so a record can only point at a record of
-- its own workspace and mode, enforced by the database.
ALTER TABLE contacts ADD CONSTRAINT contacts_tenant_key UNIQUE (workspace_id, mode, id);

CREATE TABLE companies (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    name         text NOT NULL,
    domain       text,
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    search       tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', name || ' ' || coalesce(regexp_replace(domain, '[.:/_-]', ' ', 'g'), ''))) STORED,
    CONSTRAINT companies_tenant_key UNIQUE (workspace_id, mode, id)
);
CREATE INDEX companies_page ON companies (workspace_id, mode, created_at DESC, id DESC);
CREATE INDEX companies_search ON companies USING gin (search);
CREATE INDEX companies_domain_trgm ON companies USING gin (lower(domain) gin_trgm_ops);

-- Contacts created before companies existed may name companies that do not.
UPDATE contacts SET company_id = NULL WHERE company_id IS NOT NULL;
ALTER TABLE contacts
    ADD CONSTRAINT contacts_company_id_fkey FOREIGN KEY (workspace_id, mode, company_id)
        REFERENCES companies (workspace_id, mode, id) ON DELETE SET NULL (company_id),
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' ||
            coalesce(regexp_replace(email, '[@.+_-]', ' ', 'g'), '') || ' ' ||
            coalesce(phone, '') || ' ' || coalesce(regexp_replace(phone, '[^0-9]', '', 'g'), ''))) STORED;
CREATE INDEX contacts_search ON contacts USING gin (search);
CREATE INDEX contacts_email_trgm ON contacts USING gin (lower(email) gin_trgm_ops);

CREATE TABLE pipelines (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    key          text NOT NULL,
    label        text NOT NULL,
    position     int NOT NULL DEFAULT 0,
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (workspace_id, mode, key)
);
-- Exactly one default pipeline per workspace and mode (at most one here; seeding adds it).
CREATE UNIQUE INDEX pipelines_default ON pipelines (workspace_id, mode) WHERE is_default;

CREATE TABLE pipeline_stages (
    workspace_id text NOT NULL,
    mode         relm_mode NOT NULL,
    pipeline     text NOT NULL,
    key          text NOT NULL,
    label        text NOT NULL,
    position     int NOT NULL DEFAULT 0,
    is_won       boolean NOT NULL DEFAULT false,
    is_lost      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (workspace_id, mode, pipeline, key),
    FOREIGN KEY (workspace_id, mode, pipeline) REFERENCES pipelines (workspace_id, mode, key)
        ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE deals (
    id                 text PRIMARY KEY,
    workspace_id       text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode               relm_mode NOT NULL,
    title              text NOT NULL,
    value_cents        bigint CHECK (value_cents >= 0),
    currency           text NOT NULL DEFAULT 'USD',
    pipeline           text NOT NULL,
    stage              text NOT NULL,
    close_date         date,
    company_id         text,
    primary_contact_id text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    search             tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED,
    CONSTRAINT deals_tenant_key UNIQUE (workspace_id, mode, id),
    CONSTRAINT deals_stage_fkey FOREIGN KEY (workspace_id, mode, pipeline, stage)
        REFERENCES pipeline_stages (workspace_id, mode, pipeline, key) ON UPDATE CASCADE,
    CONSTRAINT deals_company_id_fkey FOREIGN KEY (workspace_id, mode, company_id)
        REFERENCES companies (workspace_id, mode, id) ON DELETE SET NULL (company_id),
    CONSTRAINT deals_primary_contact_id_fkey FOREIGN KEY (workspace_id, mode, primary_contact_id)
        REFERENCES contacts (workspace_id, mode, id) ON DELETE SET NULL (primary_contact_id)
);
CREATE INDEX deals_page ON deals (workspace_id, mode, created_at DESC, id DESC);
CREATE INDEX deals_stage ON deals (workspace_id, mode, pipeline, stage, created_at DESC, id DESC);
CREATE INDEX deals_stage_only ON deals (workspace_id, mode, stage, created_at DESC, id DESC);
CREATE INDEX deals_company ON deals (workspace_id, mode, company_id, created_at DESC, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX deals_contact ON deals (workspace_id, mode, primary_contact_id) WHERE primary_contact_id IS NOT NULL;
CREATE INDEX deals_value ON deals (workspace_id, mode, value_cents);
CREATE INDEX deals_search ON deals USING gin (search);

CREATE TABLE activities (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    type         text NOT NULL CHECK (type IN ('note', 'email', 'call', 'meeting', 'task')),
    subject      text,
    body         text,
    contact_id   text,
    deal_id      text,
    company_id   text,
    occurred_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    search       tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(left(body, 100000), ''))) STORED,
    CONSTRAINT activities_tenant_key UNIQUE (workspace_id, mode, id),
    CONSTRAINT activities_needs_a_record CHECK (num_nonnulls(contact_id, deal_id, company_id) > 0),
    CONSTRAINT activities_contact_id_fkey FOREIGN KEY (workspace_id, mode, contact_id)
        REFERENCES contacts (workspace_id, mode, id) ON DELETE SET NULL (contact_id),
    CONSTRAINT activities_deal_id_fkey FOREIGN KEY (workspace_id, mode, deal_id)
        REFERENCES deals (workspace_id, mode, id) ON DELETE SET NULL (deal_id),
    CONSTRAINT activities_company_id_fkey FOREIGN KEY (workspace_id, mode, company_id)
        REFERENCES companies (workspace_id, mode, id) ON DELETE SET NULL (company_id)
);
CREATE INDEX activities_page ON activities (workspace_id, mode, created_at DESC, id DESC);
CREATE INDEX activities_contact ON activities (workspace_id, mode, contact_id, created_at DESC, id DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX activities_deal ON activities (workspace_id, mode, deal_id, created_at DESC, id DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX activities_company ON activities (workspace_id, mode, company_id, created_at DESC, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX activities_search ON activities USING gin (search);

-- The event log: one row per change, written in the same transaction as the change.
CREATE TABLE events (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    type         text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_page ON events (workspace_id, mode, created_at DESC, id DESC);
CREATE INDEX events_type ON events (workspace_id, mode, type, created_at DESC, id DESC);

-- Every workspace starts, in each mode, with the default pipeline.
-- +goose StatementBegin
CREATE FUNCTION seed_default_pipeline(ws text, m relm_mode) RETURNS void LANGUAGE sql AS $$
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
-- +goose StatementBegin
CREATE FUNCTION seed_workspace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM seed_default_pipeline(NEW.id, 'live');
    PERFORM seed_default_pipeline(NEW.id, 'test');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER workspaces_seed AFTER INSERT ON workspaces FOR EACH ROW EXECUTE FUNCTION seed_workspace();
SELECT seed_default_pipeline(id, 'live'), seed_default_pipeline(id, 'test') FROM workspaces;

-- +goose Down
DROP TRIGGER workspaces_seed ON workspaces;
DROP FUNCTION seed_workspace();
DROP FUNCTION seed_default_pipeline(text, relm_mode);
DROP TABLE events;
DROP TABLE activities;
DROP TABLE deals;
DROP TABLE pipeline_stages;
DROP TABLE pipelines;
ALTER TABLE contacts DROP COLUMN search, DROP CONSTRAINT contacts_company_id_fkey;
DROP TABLE companies;
ALTER TABLE contacts DROP CONSTRAINT contacts_tenant_key;
