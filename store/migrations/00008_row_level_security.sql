-- +goose Up
-- Row-level security: the second wall behind the explicit workspace_id/mode predicate of
-- every tenant query. The server's sessions run as relm_app (store.Open sets the role on
-- every connection), which owns nothing and is subject to the policies below; each
-- transaction names its tenant with set_config('relm.workspace' / 'relm.mode', …, true)
-- (store.Store.InTx). With no tenant set, every policy matches nothing.
--
-- Everything that must cross tenants or comes before a tenant is known, and the searches that
-- need indexes a policy would rule out, go through the SECURITY DEFINER functions at the
-- end, each one statement with a fixed purpose.
-- Migrations, the CLI and first-start set-up connect as the owner, which bypasses RLS.
--
-- A later migration adding a tenant table must enable row-level security on it, give it the
-- same tenant policy and grant relm_app what it needs; store's TestNoTenantSeesNothing fails
-- for a table with a workspace_id column and row-level security off.

-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relm_app') THEN
        BEGIN
            -- Roles are per cluster: another database on it may be creating it right now.
            CREATE ROLE relm_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'relm_app', 'MEMBER') THEN
        EXECUTE format('GRANT relm_app TO %I', current_user);
    END IF;
END
$$;
-- +goose StatementEnd

-- The tenant of the current transaction; NULL when none is set, which no row matches.
-- Plain SQL functions, so the planner inlines them into the policies.
CREATE FUNCTION relm_tenant_workspace() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('relm.workspace', true), '')
$$;
CREATE FUNCTION relm_tenant_mode() RETURNS relm_mode LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('relm.mode', true), '')::relm_mode
$$;

-- The rate limiter's windows become tenant rows like everything else.
ALTER TABLE rate_windows ADD COLUMN workspace_id text, ADD COLUMN mode relm_mode;
UPDATE rate_windows r SET workspace_id = k.workspace_id, mode = k.mode FROM api_keys k WHERE k.id = r.key_id;
ALTER TABLE rate_windows ALTER COLUMN workspace_id SET NOT NULL, ALTER COLUMN mode SET NOT NULL,
    ADD FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE;

GRANT USAGE ON SCHEMA public TO relm_app;
GRANT EXECUTE ON FUNCTION relm_tenant_workspace(), relm_tenant_mode() TO relm_app;

-- Workspaces: a tenant reads its own row (its plan); creating, changing and deleting them
-- is for the owner (CLI, first start, eval sandboxes).
GRANT SELECT ON workspaces TO relm_app;
ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON workspaces FOR SELECT TO relm_app USING (id = relm_tenant_workspace());

-- The least each table needs: events and request logs are append-only for the server (the
-- purge is a definer function), keys can be created and revoked but not edited otherwise.
GRANT SELECT, INSERT, UPDATE, DELETE ON contacts, companies, deals, activities, pipelines, pipeline_stages,
    idempotency_keys, rate_windows, usage_counters, custom_fields, custom_field_versions, associations TO relm_app;
GRANT SELECT, INSERT ON events, request_logs TO relm_app;
GRANT SELECT, INSERT ON api_keys TO relm_app;
GRANT UPDATE (revoked_at) ON api_keys TO relm_app;

-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_keys', 'contacts', 'companies', 'deals', 'activities', 'pipelines',
        'pipeline_stages', 'events', 'idempotency_keys', 'rate_windows', 'usage_counters', 'request_logs',
        'custom_fields', 'custom_field_versions', 'associations']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I TO relm_app
            USING (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode())
            WITH CHECK (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode())', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- The system path. Each runs as the owner (no RLS) and does one fixed thing.

-- Finding the caller behind a key comes before any tenant is known.
CREATE FUNCTION relm_authenticate(hash bytea) RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode FROM public.api_keys k WHERE k.secret_hash = hash AND k.revoked_at IS NULL
$$;

-- Retention purges cover every tenant; the periods are fixed here (store.IdempotencyTTL,
-- store.RequestLogRetention), so the server cannot be made to delete anything younger.
CREATE FUNCTION relm_purge_idempotency_keys() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.idempotency_keys WHERE created_at < clock_timestamp() - interval '24 hours' RETURNING 1)
    SELECT count(*) FROM gone
$$;
CREATE FUNCTION relm_purge_request_logs() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.request_logs WHERE created_at < clock_timestamp() - interval '30 days' RETURNING 1)
    SELECT count(*) FROM gone
$$;

-- Search candidates, one function per record kind (store/search.go). Neither @@ nor LIKE is
-- leakproof (LIKE raises an error for a pattern ending in an escape character only on rows
-- that reach it), so beneath a policy PostgreSQL may not use an index for them and would
-- read every row of the tenant. These apply the same tenant predicate as the policy and use
-- the GIN indexes. A candidate limit tempts the planner into a sequential scan that stops
-- early, which for a rare word reads the whole table; hence enable_seqscan off. The bodies
-- use $1, $2 … so that relmbench can prepare and EXPLAIN them as they are planned.
CREATE FUNCTION relm_search_contacts(query tsquery, pattern text, max_rows int) RETURNS SETOF contacts
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public SET enable_seqscan = off AS $$
    SELECT * FROM public.contacts
    WHERE workspace_id = public.relm_tenant_workspace() AND mode = public.relm_tenant_mode()
      AND (search @@ $1 OR lower(email) LIKE $2)
    LIMIT $3
$$;
CREATE FUNCTION relm_search_companies(query tsquery, pattern text, max_rows int) RETURNS SETOF companies
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public SET enable_seqscan = off AS $$
    SELECT * FROM public.companies
    WHERE workspace_id = public.relm_tenant_workspace() AND mode = public.relm_tenant_mode()
      AND (search @@ $1 OR lower(domain) LIKE $2)
    LIMIT $3
$$;
CREATE FUNCTION relm_search_deals(query tsquery, max_rows int) RETURNS SETOF deals
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public SET enable_seqscan = off AS $$
    SELECT * FROM public.deals
    WHERE workspace_id = public.relm_tenant_workspace() AND mode = public.relm_tenant_mode() AND search @@ $1
    LIMIT $2
$$;
CREATE FUNCTION relm_search_activities(query tsquery, max_rows int) RETURNS SETOF activities
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public SET enable_seqscan = off AS $$
    SELECT * FROM public.activities
    WHERE workspace_id = public.relm_tenant_workspace() AND mode = public.relm_tenant_mode() AND search @@ $1
    LIMIT $2
$$;

REVOKE ALL ON FUNCTION relm_authenticate(bytea), relm_purge_idempotency_keys(), relm_purge_request_logs(),
    relm_search_contacts(tsquery, text, int), relm_search_companies(tsquery, text, int),
    relm_search_deals(tsquery, int), relm_search_activities(tsquery, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_authenticate(bytea), relm_purge_idempotency_keys(), relm_purge_request_logs(),
    relm_search_contacts(tsquery, text, int), relm_search_companies(tsquery, text, int),
    relm_search_deals(tsquery, int), relm_search_activities(tsquery, int) TO relm_app;

-- +goose Down
DROP FUNCTION relm_authenticate(bytea), relm_purge_idempotency_keys(), relm_purge_request_logs(),
    relm_search_contacts(tsquery, text, int), relm_search_companies(tsquery, text, int),
    relm_search_deals(tsquery, int), relm_search_activities(tsquery, int);
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workspaces', 'api_keys', 'contacts', 'companies', 'deals', 'activities', 'pipelines',
        'pipeline_stages', 'events', 'idempotency_keys', 'rate_windows', 'usage_counters', 'request_logs',
        'custom_fields', 'custom_field_versions', 'associations']
    LOOP
        EXECUTE format('DROP POLICY tenant ON %I', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
        EXECUTE format('REVOKE ALL ON %I FROM relm_app', t);
    END LOOP;
END
$$;
-- +goose StatementEnd
ALTER TABLE rate_windows DROP COLUMN workspace_id, DROP COLUMN mode;
DROP FUNCTION relm_tenant_workspace(), relm_tenant_mode();
REVOKE USAGE ON SCHEMA public FROM relm_app;
