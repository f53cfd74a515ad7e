-- Sandboxes: test-mode workspaces that a workspace's key makes through the API (POST
-- /v1/sandboxes), for eval suites and CI to run against a deployed Relm without touching the
-- workspace itself. A sandbox is a workspace row with a parent (the workspace and mode of the
-- key that made it) and an expiry; its data is ordinary tenant data of its own workspace id,
-- so every policy and predicate that isolates workspaces isolates sandboxes too. Deleting it
-- (or its parent) deletes everything in it by the foreign keys' cascades.
-- +goose Up
ALTER TABLE workspaces
    ADD COLUMN parent_id text REFERENCES workspaces (id) ON DELETE CASCADE,
    ADD COLUMN parent_mode relm_mode,
    ADD COLUMN sandbox_name text,
    ADD COLUMN expires_at timestamptz,
    ADD CONSTRAINT workspaces_sandbox CHECK (
        (parent_id IS NULL) = (parent_mode IS NULL) AND (parent_id IS NULL) = (expires_at IS NULL)
        AND (parent_id IS NOT NULL OR sandbox_name IS NULL) AND parent_id <> id);
CREATE INDEX workspaces_sandboxes ON workspaces (parent_id, parent_mode, created_at DESC, id DESC) WHERE parent_id IS NOT NULL;
CREATE INDEX workspaces_expiry ON workspaces (expires_at) WHERE expires_at IS NOT NULL;

-- A key lists the sandboxes its workspace made in its mode.
CREATE POLICY sandboxes ON workspaces FOR SELECT TO relm_app
    USING (parent_id = relm_tenant_workspace() AND parent_mode = relm_tenant_mode());

-- A sandbox starts with its parent's schema (relm_create_sandbox), not the default one.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION seed_workspace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        PERFORM seed_default_pipeline(NEW.id, 'live');
        PERFORM seed_default_pipeline(NEW.id, 'test');
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- The caller's workspace and mode (the transaction's tenant) make a sandbox: its id and name,
-- its plan (the server checks it is not above the parent's), how long it lives, its first key
-- (test mode; only the hash of the secret is stored), and new ids for the parent's custom
-- fields (field_ids, in the order of their ids). Its schema is the parent's in the caller's
-- mode: pipelines with their stages and custom fields, with the same keys. Sandboxes
-- cannot make sandboxes (SQLSTATE RX001); a workspace holds at most max_sandboxes unexpired
-- ones, both modes together (RX002), counted under a lock on the parent so that concurrent
-- creations cannot pass the cap.
-- +goose StatementBegin
CREATE FUNCTION relm_create_sandbox(sandbox_id text, sandbox_name text, sandbox_plan text, ttl interval,
    key_id text, key_hash bytea, key_prefix text, key_last4 text, max_sandboxes int, field_ids text[])
RETURNS SETOF workspaces
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    ws text := public.relm_tenant_workspace();
    m relm_mode := public.relm_tenant_mode();
    parent public.workspaces;
    made public.workspaces;
BEGIN
    SELECT * INTO parent FROM public.workspaces WHERE id = ws FOR UPDATE;
    IF NOT FOUND OR m IS NULL THEN
        RAISE EXCEPTION 'relm_create_sandbox: no tenant' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF parent.parent_id IS NOT NULL THEN
        RAISE EXCEPTION 'a sandbox cannot create sandboxes' USING ERRCODE = 'RX001';
    END IF;
    IF (SELECT count(*) FROM public.workspaces WHERE parent_id = ws AND expires_at > clock_timestamp()) >= max_sandboxes THEN
        RAISE EXCEPTION 'the workspace holds % sandboxes', max_sandboxes USING ERRCODE = 'RX002';
    END IF;
    INSERT INTO public.workspaces (id, name, plan, parent_id, parent_mode, sandbox_name, expires_at)
    VALUES (sandbox_id, sandbox_id, sandbox_plan, ws, m, sandbox_name, clock_timestamp() + ttl)
    RETURNING * INTO made;
    INSERT INTO public.pipelines (workspace_id, mode, key, label, position, is_default)
    SELECT sandbox_id, 'test', p.key, p.label, p.position, p.is_default FROM public.pipelines p
    WHERE p.workspace_id = ws AND p.mode = m;
    INSERT INTO public.pipeline_stages (workspace_id, mode, pipeline, key, label, position, is_won, is_lost)
    SELECT sandbox_id, 'test', s.pipeline, s.key, s.label, s.position, s.is_won, s.is_lost FROM public.pipeline_stages s
    WHERE s.workspace_id = ws AND s.mode = m;
    IF (SELECT count(*) FROM public.custom_fields WHERE workspace_id = ws AND mode = m) <> coalesce(cardinality(field_ids), 0) THEN
        RAISE EXCEPTION 'relm_create_sandbox: % field ids for the parent''s fields', cardinality(field_ids) USING ERRCODE = 'RX003';
    END IF;
    INSERT INTO public.custom_fields (id, workspace_id, mode, object_type, key, label, type, options, description)
    SELECT n.id, sandbox_id, 'test', f.object_type, f.key, f.label, f.type, f.options, f.description
    FROM (SELECT *, row_number() OVER (ORDER BY id) AS i FROM public.custom_fields WHERE workspace_id = ws AND mode = m) f
    JOIN unnest(field_ids) WITH ORDINALITY AS n(id, i) ON n.i = f.i;
    INSERT INTO public.custom_field_versions (workspace_id, mode, version)
    SELECT sandbox_id, 'test', v.version FROM public.custom_field_versions v WHERE v.workspace_id = ws AND v.mode = m;
    INSERT INTO public.api_keys (id, workspace_id, mode, secret_hash, prefix, last4)
    VALUES (key_id, sandbox_id, 'test', key_hash, key_prefix, key_last4);
    RETURN NEXT made;
END
$$;
-- +goose StatementEnd

-- The caller's workspace and mode delete one of their unexpired sandboxes, with everything in it.
CREATE FUNCTION relm_delete_sandbox(sandbox_id text) RETURNS SETOF workspaces
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DELETE FROM public.workspaces
    WHERE id = sandbox_id AND parent_id = public.relm_tenant_workspace() AND parent_mode = public.relm_tenant_mode()
      AND expires_at > clock_timestamp()
    RETURNING *
$$;

-- The server removes expired sandboxes, every tenant's.
CREATE FUNCTION relm_purge_sandboxes() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.workspaces WHERE expires_at <= clock_timestamp() RETURNING 1)
    SELECT count(*) FROM gone
$$;

-- A key authenticates with its workspace's parent (for a sandbox's key), until the sandbox expires.
DROP FUNCTION relm_authenticate(bytea);
CREATE FUNCTION relm_authenticate(hash bytea)
RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode, key_parent_id text, key_expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode, w.parent_id, w.expires_at
    FROM public.api_keys k JOIN public.workspaces w ON w.id = k.workspace_id
    WHERE k.secret_hash = hash AND k.revoked_at IS NULL AND (w.expires_at IS NULL OR w.expires_at > clock_timestamp())
$$;

REVOKE ALL ON FUNCTION relm_create_sandbox(text, text, text, interval, text, bytea, text, text, int, text[]),
    relm_delete_sandbox(text), relm_purge_sandboxes(), relm_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_create_sandbox(text, text, text, interval, text, bytea, text, text, int, text[]),
    relm_delete_sandbox(text), relm_purge_sandboxes(), relm_authenticate(bytea) TO relm_app;

-- +goose Down
DROP FUNCTION relm_authenticate(bytea);
CREATE FUNCTION relm_authenticate(hash bytea) RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode FROM public.api_keys k WHERE k.secret_hash = hash AND k.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION relm_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_authenticate(bytea) TO relm_app;
DROP FUNCTION relm_purge_sandboxes(), relm_delete_sandbox(text),
    relm_create_sandbox(text, text, text, interval, text, bytea, text, text, int, text[]);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION seed_workspace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM seed_default_pipeline(NEW.id, 'live');
    PERFORM seed_default_pipeline(NEW.id, 'test');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
DROP POLICY sandboxes ON workspaces;
DELETE FROM workspaces WHERE parent_id IS NOT NULL;
ALTER TABLE workspaces DROP COLUMN expires_at, DROP COLUMN sandbox_name, DROP COLUMN parent_mode, DROP COLUMN parent_id;
