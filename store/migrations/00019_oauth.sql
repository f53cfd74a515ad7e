-- OAuth 2.1 for MCP connectors (docs/oauth.md). An OAuth grant is an API key of kind 'oauth':
-- one api_keys row per grant, so rate limits, quotas, request logs, scopes and the key
-- cache's invalidation on revoke apply unchanged; its secret_hash is random bytes that no
-- secret hashes to. The grant's access and refresh tokens (opaque, stored as SHA-256) are
-- looked up by relm_oauth_authenticate. Clients and codes are not tenant data; relm_app
-- reaches clients, codes and tokens only through the definer functions below, and reads a
-- tenant's grants under its policy.
-- +goose Up
ALTER TABLE api_keys ADD COLUMN kind text NOT NULL DEFAULT 'secret' CHECK (kind IN ('secret', 'oauth'));

-- A registered client (RFC 7591, id rc_…) or a Client ID Metadata Document (id is its https
-- URL, metadata_document true, fetched again after an hour).
CREATE TABLE oauth_clients (
    id                text PRIMARY KEY,
    secret_hash       bytea,
    auth_method       text NOT NULL CHECK (auth_method IN ('none', 'client_secret_post', 'client_secret_basic')),
    name              text NOT NULL DEFAULT '',
    redirect_uris     text[] NOT NULL,
    metadata          jsonb NOT NULL DEFAULT '{}',
    metadata_document boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    fetched_at        timestamptz
);

-- A user's consent to a client in one workspace and mode: the api_keys row key_id.
CREATE TABLE oauth_grants (
    workspace_id text NOT NULL,
    mode         relm_mode NOT NULL,
    key_id       text NOT NULL,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id    text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    client_name  text NOT NULL,
    resource     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, key_id),
    FOREIGN KEY (workspace_id, key_id) REFERENCES api_keys (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id);
ALTER TABLE oauth_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON oauth_grants FOR SELECT TO relm_app
    USING (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode());
GRANT SELECT ON oauth_grants TO relm_app;

-- An authorization code (its hash), for 2 minutes, once; key_id is the grant made from it,
-- revoked if the code is used again.
CREATE TABLE oauth_codes (
    code_hash        bytea PRIMARY KEY,
    client_id        text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_workspace text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode             relm_mode NOT NULL,
    scope            text,
    resource         text NOT NULL,
    redirect_uri     text NOT NULL,
    code_challenge   text NOT NULL,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    key_id           text
);

-- A grant's access and refresh tokens (their hashes). A refresh token is used once (rotation).
CREATE TABLE oauth_tokens (
    workspace_id text NOT NULL,
    token_hash   bytea NOT NULL,
    key_id       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, token_hash),
    FOREIGN KEY (workspace_id, key_id) REFERENCES oauth_grants (workspace_id, key_id) ON DELETE CASCADE
);
CREATE INDEX oauth_tokens_hash ON oauth_tokens (token_hash);
CREATE INDEX oauth_tokens_key ON oauth_tokens (workspace_id, key_id);
ALTER TABLE oauth_tokens ENABLE ROW LEVEL SECURITY;

-- API key secrets authenticate secret keys only: an oauth key is reached through its tokens.
DROP FUNCTION relm_authenticate(bytea);
CREATE FUNCTION relm_authenticate(hash bytea)
RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode, key_parent_id text, key_expires_at timestamptz, key_scopes text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode, w.parent_id, w.expires_at, k.scopes
    FROM public.api_keys k JOIN public.workspaces w ON w.id = k.workspace_id
    WHERE k.secret_hash = hash AND k.kind = 'secret' AND k.revoked_at IS NULL
      AND (w.expires_at IS NULL OR w.expires_at > clock_timestamp())
$$;

-- Registers a client, or stores a metadata document's client again (refetched).
CREATE FUNCTION relm_oauth_register_client(cid text, secret bytea, method text, client_name text, uris text[],
    meta jsonb, document boolean) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.oauth_clients (id, secret_hash, auth_method, name, redirect_uris, metadata, metadata_document, fetched_at)
    VALUES (cid, secret, method, left(client_name, 200), uris, meta, document, CASE WHEN document THEN clock_timestamp() END)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris,
        metadata = excluded.metadata, fetched_at = excluded.fetched_at
    WHERE public.oauth_clients.metadata_document AND excluded.metadata_document
$$;

-- A client by id.
CREATE FUNCTION relm_oauth_client(cid text)
RETURNS TABLE (secret_hash bytea, auth_method text, name text, redirect_uris text[], metadata_document boolean, fetched_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT c.secret_hash, c.auth_method, c.name, c.redirect_uris, c.metadata_document, c.fetched_at
    FROM public.oauth_clients c WHERE c.id = cid
$$;

-- A user's consent becomes a code (its hash) for ttl; false when uid is not a member of ws.
-- +goose StatementBegin
CREATE FUNCTION relm_oauth_new_code(code bytea, cid text, uid text, ws text, m relm_mode, grant_scope text,
    res text, redirect text, challenge text, ttl interval) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.memberships WHERE workspace_id = ws AND user_id = uid) THEN
        RETURN false;
    END IF;
    INSERT INTO public.oauth_codes (code_hash, client_id, user_id, target_workspace, mode, scope, resource,
        redirect_uri, code_challenge, expires_at)
    VALUES (code, cid, uid, ws, m, grant_scope, res, redirect, challenge, clock_timestamp() + ttl);
    RETURN true;
END
$$;
-- +goose StatementEnd

-- Issues a grant's access and refresh tokens (their hashes).
CREATE FUNCTION relm_oauth_issue(ws text, kid text, access bytea, access_ttl interval, refresh bytea, refresh_ttl interval) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.oauth_tokens (workspace_id, token_hash, key_id, kind, expires_at)
    VALUES (ws, access, kid, 'access', clock_timestamp() + access_ttl), (ws, refresh, kid, 'refresh', clock_timestamp() + refresh_ttl)
$$;

-- Exchanges a code (its hash) for a grant (key kid, with a random unusable secret hash) and
-- its first tokens. challenge is the S256 of the client's code_verifier. outcome: 'ok'
-- (scope is the grant's), 'invalid' (unknown, expired, another client's, or a mismatch), or
-- 'reused' (the code was used before: the grant made from it is revoked).
-- +goose StatementBegin
CREATE FUNCTION relm_oauth_exchange_code(code bytea, cid text, redirect text, res text, challenge text,
    kid text, key_hash bytea, access bytea, access_ttl interval, refresh bytea, refresh_ttl interval,
    OUT outcome text, OUT scope text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c public.oauth_codes;
BEGIN
    SELECT * INTO c FROM public.oauth_codes WHERE code_hash = code FOR UPDATE;
    IF NOT FOUND OR c.client_id <> cid THEN
        outcome := 'invalid';
        RETURN;
    END IF;
    IF c.used_at IS NOT NULL THEN
        UPDATE public.api_keys SET revoked_at = clock_timestamp()
        WHERE workspace_id = c.target_workspace AND id = c.key_id AND revoked_at IS NULL;
        outcome := 'reused';
        RETURN;
    END IF;
    UPDATE public.oauth_codes SET used_at = clock_timestamp() WHERE code_hash = code;
    IF c.expires_at <= clock_timestamp() OR c.code_challenge <> challenge OR c.redirect_uri <> redirect
        OR c.resource <> res
        OR NOT EXISTS (SELECT 1 FROM public.memberships WHERE workspace_id = c.target_workspace AND user_id = c.user_id) THEN
        outcome := 'invalid';
        RETURN;
    END IF;
    INSERT INTO public.api_keys (id, workspace_id, mode, secret_hash, prefix, last4, scopes, kind)
    VALUES (kid, c.target_workspace, c.mode, key_hash, 'oauth', '', c.scope, 'oauth');
    INSERT INTO public.oauth_grants (workspace_id, mode, key_id, user_id, client_id, client_name, resource)
    SELECT c.target_workspace, c.mode, kid, c.user_id, c.client_id, cl.name, c.resource
    FROM public.oauth_clients cl WHERE cl.id = c.client_id;
    PERFORM public.relm_oauth_issue(c.target_workspace, kid, access, access_ttl, refresh, refresh_ttl);
    UPDATE public.oauth_codes SET key_id = kid WHERE code_hash = code;
    outcome := 'ok';
    scope := c.scope;
END
$$;
-- +goose StatementEnd

-- Rotates a refresh token (its hash) of client cid: an unused one is used up and a new pair
-- issued; one used within grace (concurrent refreshes) gets another pair; one used longer
-- ago revokes the grant. outcome: 'ok' (scope is the grant's), 'invalid' or 'reused'.
-- +goose StatementBegin
CREATE FUNCTION relm_oauth_refresh(refresh bytea, cid text, access bytea, access_ttl interval, new_refresh bytea,
    refresh_ttl interval, grace interval, OUT outcome text, OUT scope text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    t public.oauth_tokens;
    g public.oauth_grants;
    k public.api_keys;
BEGIN
    outcome := 'invalid';
    SELECT * INTO t FROM public.oauth_tokens WHERE token_hash = refresh AND kind = 'refresh' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO g FROM public.oauth_grants WHERE workspace_id = t.workspace_id AND key_id = t.key_id;
    SELECT * INTO k FROM public.api_keys WHERE workspace_id = t.workspace_id AND id = t.key_id;
    IF g.client_id <> cid OR k.revoked_at IS NOT NULL OR t.expires_at <= clock_timestamp()
        OR NOT EXISTS (SELECT 1 FROM public.memberships WHERE workspace_id = g.workspace_id AND user_id = g.user_id) THEN
        RETURN;
    END IF;
    IF t.used_at IS NOT NULL AND t.used_at < clock_timestamp() - grace THEN
        UPDATE public.api_keys SET revoked_at = clock_timestamp() WHERE workspace_id = k.workspace_id AND id = k.id;
        outcome := 'reused';
        RETURN;
    END IF;
    UPDATE public.oauth_tokens SET used_at = coalesce(used_at, clock_timestamp())
    WHERE workspace_id = t.workspace_id AND token_hash = refresh;
    PERFORM public.relm_oauth_issue(t.workspace_id, t.key_id, access, access_ttl, new_refresh, refresh_ttl);
    outcome := 'ok';
    scope := k.scopes;
END
$$;
-- +goose StatementEnd

-- The caller behind an access token (its hash), in relm_authenticate's columns; none when
-- the token expired, its grant was revoked or its user left the workspace.
CREATE FUNCTION relm_oauth_authenticate(access bytea)
RETURNS TABLE (key_id text, key_workspace_id text, key_mode relm_mode, key_parent_id text, key_expires_at timestamptz, key_scopes text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.workspace_id, k.mode, NULL::text, t.expires_at, k.scopes
    FROM public.oauth_tokens t
    JOIN public.api_keys k ON k.workspace_id = t.workspace_id AND k.id = t.key_id
    JOIN public.oauth_grants g ON g.workspace_id = t.workspace_id AND g.key_id = t.key_id
    WHERE t.token_hash = access AND t.kind = 'access' AND t.expires_at > clock_timestamp()
      AND k.revoked_at IS NULL AND k.kind = 'oauth'
      AND EXISTS (SELECT 1 FROM public.memberships m WHERE m.workspace_id = g.workspace_id AND m.user_id = g.user_id)
$$;

-- RFC 7009: client cid revokes the grant of one of its tokens (its hash); unknown tokens are ignored.
CREATE FUNCTION relm_oauth_revoke_token(token bytea, cid text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.api_keys k SET revoked_at = clock_timestamp()
    FROM public.oauth_tokens t JOIN public.oauth_grants g ON g.workspace_id = t.workspace_id AND g.key_id = t.key_id
    WHERE t.token_hash = token AND g.client_id = cid
      AND k.workspace_id = t.workspace_id AND k.id = t.key_id AND k.revoked_at IS NULL
$$;

-- A user's unrevoked grants in the workspaces they belong to, newest first ("Connected apps").
CREATE FUNCTION relm_oauth_user_grants(uid text)
RETURNS TABLE (workspace_id text, workspace_name text, key_id text, mode relm_mode, client_id text, client_name text,
    scopes text, created_at timestamptz, last_used_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT g.workspace_id, w.name, g.key_id, g.mode, g.client_id, g.client_name, k.scopes, g.created_at,
        (SELECT r.window_start FROM public.rate_windows r WHERE r.workspace_id = g.workspace_id AND r.key_id = g.key_id)
    FROM public.oauth_grants g
    JOIN public.api_keys k ON k.workspace_id = g.workspace_id AND k.id = g.key_id
    JOIN public.workspaces w ON w.id = g.workspace_id
    WHERE g.user_id = uid AND k.revoked_at IS NULL
      AND EXISTS (SELECT 1 FROM public.memberships m WHERE m.workspace_id = g.workspace_id AND m.user_id = uid)
    ORDER BY g.created_at DESC, g.key_id DESC
$$;

-- A user revokes one of their grants; false when it is not theirs or already revoked.
CREATE FUNCTION relm_oauth_revoke_user_grant(uid text, ws text, kid text) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH revoked AS (
        UPDATE public.api_keys k SET revoked_at = clock_timestamp()
        WHERE k.workspace_id = ws AND k.id = kid AND k.kind = 'oauth' AND k.revoked_at IS NULL
          AND EXISTS (SELECT 1 FROM public.oauth_grants g WHERE g.workspace_id = ws AND g.key_id = kid AND g.user_id = uid)
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM revoked)
$$;

-- The server removes codes and tokens a day after they expired (a used refresh token is
-- kept until then, for reuse detection).
-- +goose StatementBegin
CREATE FUNCTION relm_oauth_purge() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM public.oauth_tokens WHERE expires_at < clock_timestamp() - interval '1 day';
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM public.oauth_codes WHERE expires_at < clock_timestamp() - interval '1 day';
    RETURN n;
END
$$;
-- +goose StatementEnd

-- Removing a member now also revokes the grants they made in the workspace.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION relm_remove_person(uid text, ws text, person text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    my_role text;
    their_role text;
BEGIN
    SELECT role INTO my_role FROM public.memberships WHERE workspace_id = ws AND user_id = uid;
    IF my_role IS NULL OR my_role = 'member' THEN
        RETURN false;
    END IF;
    DELETE FROM public.invitations WHERE workspace_id = ws AND id = person AND accepted_at IS NULL
        AND (my_role = 'owner' OR role = 'member');
    IF FOUND THEN
        RETURN true;
    END IF;
    SELECT role INTO their_role FROM public.memberships WHERE workspace_id = ws AND user_id = person FOR UPDATE;
    IF their_role IS NULL OR (my_role = 'admin' AND their_role <> 'member')
        OR (their_role = 'owner' AND (SELECT count(*) FROM public.memberships WHERE workspace_id = ws AND role = 'owner') = 1) THEN
        RETURN false;
    END IF;
    DELETE FROM public.memberships WHERE workspace_id = ws AND user_id = person;
    UPDATE public.api_keys k SET revoked_at = clock_timestamp()
    FROM public.oauth_grants g
    WHERE g.workspace_id = ws AND g.user_id = person AND k.workspace_id = ws AND k.id = g.key_id AND k.revoked_at IS NULL;
    RETURN true;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION relm_authenticate(bytea),
    relm_oauth_register_client(text, bytea, text, text, text[], jsonb, boolean), relm_oauth_client(text),
    relm_oauth_new_code(bytea, text, text, text, relm_mode, text, text, text, text, interval),
    relm_oauth_issue(text, text, bytea, interval, bytea, interval),
    relm_oauth_exchange_code(bytea, text, text, text, text, text, bytea, bytea, interval, bytea, interval),
    relm_oauth_refresh(bytea, text, bytea, interval, bytea, interval, interval), relm_oauth_authenticate(bytea),
    relm_oauth_revoke_token(bytea, text), relm_oauth_user_grants(text), relm_oauth_revoke_user_grant(text, text, text),
    relm_oauth_purge() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_authenticate(bytea),
    relm_oauth_register_client(text, bytea, text, text, text[], jsonb, boolean), relm_oauth_client(text),
    relm_oauth_new_code(bytea, text, text, text, relm_mode, text, text, text, text, interval),
    relm_oauth_exchange_code(bytea, text, text, text, text, text, bytea, bytea, interval, bytea, interval),
    relm_oauth_refresh(bytea, text, bytea, interval, bytea, interval, interval), relm_oauth_authenticate(bytea),
    relm_oauth_revoke_token(bytea, text), relm_oauth_user_grants(text), relm_oauth_revoke_user_grant(text, text, text),
    relm_oauth_purge() TO relm_app;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION relm_remove_person(uid text, ws text, person text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    my_role text;
    their_role text;
BEGIN
    SELECT role INTO my_role FROM public.memberships WHERE workspace_id = ws AND user_id = uid;
    IF my_role IS NULL OR my_role = 'member' THEN
        RETURN false;
    END IF;
    DELETE FROM public.invitations WHERE workspace_id = ws AND id = person AND accepted_at IS NULL
        AND (my_role = 'owner' OR role = 'member');
    IF FOUND THEN
        RETURN true;
    END IF;
    SELECT role INTO their_role FROM public.memberships WHERE workspace_id = ws AND user_id = person FOR UPDATE;
    IF their_role IS NULL OR (my_role = 'admin' AND their_role <> 'member')
        OR (their_role = 'owner' AND (SELECT count(*) FROM public.memberships WHERE workspace_id = ws AND role = 'owner') = 1) THEN
        RETURN false;
    END IF;
    DELETE FROM public.memberships WHERE workspace_id = ws AND user_id = person;
    RETURN true;
END
$$;
-- +goose StatementEnd
DROP FUNCTION relm_oauth_register_client(text, bytea, text, text, text[], jsonb, boolean), relm_oauth_client(text),
    relm_oauth_new_code(bytea, text, text, text, relm_mode, text, text, text, text, interval),
    relm_oauth_exchange_code(bytea, text, text, text, text, text, bytea, bytea, interval, bytea, interval),
    relm_oauth_refresh(bytea, text, bytea, interval, bytea, interval, interval), relm_oauth_issue(text, text, bytea, interval, bytea, interval),
    relm_oauth_authenticate(bytea), relm_oauth_revoke_token(bytea, text), relm_oauth_user_grants(text),
    relm_oauth_revoke_user_grant(text, text, text), relm_oauth_purge();
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
DROP TABLE oauth_tokens, oauth_codes, oauth_grants, oauth_clients;
ALTER TABLE api_keys DROP COLUMN kind;
