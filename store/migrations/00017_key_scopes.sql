-- API keys may be scoped (auth.Scopes): what the key may do, such as "read" or
-- "contacts:write deals:read". NULL, as for every key made before, is full access.
-- +goose Up
ALTER TABLE api_keys ADD COLUMN scopes text CHECK (scopes IS NULL OR scopes ~ '^(read|write|[a-z_]+:(read|write))( (read|write|[a-z_]+:(read|write)))*$');

DROP FUNCTION relm_authenticate(bytea);
CREATE FUNCTION relm_authenticate(hash bytea)
RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode, key_parent_id text, key_expires_at timestamptz, key_scopes text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode, w.parent_id, w.expires_at, k.scopes
    FROM public.api_keys k JOIN public.workspaces w ON w.id = k.workspace_id
    WHERE k.secret_hash = hash AND k.revoked_at IS NULL AND (w.expires_at IS NULL OR w.expires_at > clock_timestamp())
$$;
REVOKE ALL ON FUNCTION relm_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_authenticate(bytea) TO relm_app;

-- +goose Down
DROP FUNCTION relm_authenticate(bytea);
CREATE FUNCTION relm_authenticate(hash bytea)
RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode, key_parent_id text, key_expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode, w.parent_id, w.expires_at
    FROM public.api_keys k JOIN public.workspaces w ON w.id = k.workspace_id
    WHERE k.secret_hash = hash AND k.revoked_at IS NULL AND (w.expires_at IS NULL OR w.expires_at > clock_timestamp())
$$;
REVOKE ALL ON FUNCTION relm_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_authenticate(bytea) TO relm_app;
ALTER TABLE api_keys DROP COLUMN scopes;
