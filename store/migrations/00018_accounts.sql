-- People: users who sign in to the dashboard (by a one-time email code or Google), their
-- server-side sessions, their workspace memberships and invitations, and the one-time claim
-- of the workspace made at first start. relm_app reaches none of these tables directly (it
-- has privileges only on tables whose policies bind it, store's TestRowLevelSecurity): every
-- read and write goes through the SECURITY DEFINER functions below, each doing one narrow
-- thing for a user the server has authenticated. Secrets (codes, links, session tokens,
-- invitation and claim tokens) are stored only as hashes.
-- +goose Up
CREATE TABLE users (
    id              text PRIMARY KEY,
    email           text NOT NULL,
    google_subject  text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- A one-time sign-in code mailed to an address, with the link that confirms it. Only the
-- address's newest unexpired code counts.
CREATE TABLE sign_in_codes (
    id         text PRIMARY KEY,
    email      text NOT NULL,
    code_hash  bytea NOT NULL,
    link_hash  bytea NOT NULL UNIQUE,
    attempts   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX sign_in_codes_email ON sign_in_codes (lower(email), created_at DESC);

-- A signed-in browser. shown_workspace and mode are what its pages show; membership is checked
-- on every request (relm_session), so no foreign key keeps a removed member's choice alive.
-- (Sessions are not tenant data: the column is not called workspace_id.)
CREATE TABLE sessions (
    id           text PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shown_workspace text,
    mode         relm_mode NOT NULL DEFAULT 'test',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE memberships (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;

CREATE TABLE invitations (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           text NOT NULL,
    email        text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'member')),
    token_hash   bytea NOT NULL,
    invited_by   text REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, token_hash)
);
CREATE INDEX invitations_token ON invitations (token_hash);
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;

-- The workspace made at first start waits for its owner: the first user to sign in with
-- owner_email (relm serve --owner-email), or whoever opens the claim link printed at start.
CREATE TABLE workspace_claims (
    workspace_id text PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    owner_email  text,
    token_hash   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE workspace_claims ENABLE ROW LEVEL SECURITY;

-- A user's email code: stored if the address has asked for fewer than max_recent codes in the
-- last window; returns whether it was stored.
-- +goose StatementBegin
CREATE FUNCTION relm_new_sign_in_code(code_id text, address text, code bytea, link bytea, ttl interval,
    max_recent int, recent_window interval) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('relm.sign_in/' || lower(address), 0));
    IF (SELECT count(*) FROM public.sign_in_codes WHERE lower(email) = lower(address)
        AND created_at > clock_timestamp() - recent_window) >= max_recent THEN
        RETURN false;
    END IF;
    INSERT INTO public.sign_in_codes (id, email, code_hash, link_hash, expires_at)
    VALUES (code_id, address, code, link, clock_timestamp() + ttl);
    RETURN true;
END
$$;
-- +goose StatementEnd

-- The user with address, made on first sign-in.
-- +goose StatementBegin
CREATE FUNCTION relm_user_for_email(new_id text, address text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid text;
BEGIN
    INSERT INTO public.users (id, email, last_sign_in_at) VALUES (new_id, address, clock_timestamp())
    ON CONFLICT (lower(email)) DO UPDATE SET last_sign_in_at = clock_timestamp()
    RETURNING id INTO uid;
    -- The first-start workspace goes to the address named by --owner-email.
    INSERT INTO public.memberships (workspace_id, user_id, role)
    SELECT c.workspace_id, uid, 'owner' FROM public.workspace_claims c
    WHERE lower(c.owner_email) = lower(address)
    ON CONFLICT DO NOTHING;
    DELETE FROM public.workspace_claims WHERE lower(owner_email) = lower(address);
    RETURN uid;
END
$$;
-- +goose StatementEnd

-- Checks code (its hash) against the address's newest unexpired code. outcome: 'ok' (the code
-- is used up and user_id is the user), 'wrong', 'locked' (max_attempts wrong guesses used
-- it up) or 'expired' (no code waiting).
-- +goose StatementBegin
CREATE FUNCTION relm_use_sign_in_code(address text, code bytea, max_attempts int, new_user_id text,
    OUT outcome text, OUT user_id text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c public.sign_in_codes;
BEGIN
    SELECT * INTO c FROM public.sign_in_codes WHERE lower(email) = lower(address)
        AND expires_at > clock_timestamp() ORDER BY created_at DESC LIMIT 1 FOR UPDATE;
    IF NOT FOUND OR c.used_at IS NOT NULL THEN
        outcome := 'expired';
        RETURN;
    END IF;
    IF c.attempts >= max_attempts THEN
        outcome := 'locked';
        RETURN;
    END IF;
    IF c.code_hash = code THEN
        UPDATE public.sign_in_codes SET attempts = attempts + 1, used_at = clock_timestamp() WHERE id = c.id;
        outcome := 'ok';
        user_id := public.relm_user_for_email(new_user_id, c.email);
        RETURN;
    END IF;
    UPDATE public.sign_in_codes SET attempts = attempts + 1 WHERE id = c.id;
    outcome := CASE WHEN c.attempts + 1 >= max_attempts THEN 'locked' ELSE 'wrong' END;
END
$$;
-- +goose StatementEnd

-- The address a sign-in link (its hash) is for, while it can still be used; '' otherwise.
CREATE FUNCTION relm_sign_in_link(link bytea) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce((SELECT email FROM public.sign_in_codes WHERE link_hash = link AND used_at IS NULL
        AND expires_at > clock_timestamp() AND attempts < 5), '')
$$;

-- Uses a sign-in link up and returns the user it signs in, or NULL if it cannot be used.
-- +goose StatementBegin
CREATE FUNCTION relm_use_sign_in_link(link bytea, new_user_id text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    address text;
BEGIN
    UPDATE public.sign_in_codes SET used_at = clock_timestamp()
    WHERE link_hash = link AND used_at IS NULL AND expires_at > clock_timestamp() AND attempts < 5
    RETURNING email INTO address;
    IF address IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN public.relm_user_for_email(new_user_id, address);
END
$$;
-- +goose StatementEnd

-- The user a Google account (its OpenID subject, with a verified address) signs in: the one
-- keyed by the subject, else the one with the address (which gets the subject), else a new
-- one. NULL when the address's user is already tied to another Google account.
-- +goose StatementBegin
CREATE FUNCTION relm_user_for_google(new_id text, subject text, address text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid text;
BEGIN
    UPDATE public.users SET last_sign_in_at = clock_timestamp() WHERE google_subject = subject RETURNING id INTO uid;
    IF uid IS NOT NULL THEN
        RETURN uid;
    END IF;
    uid := public.relm_user_for_email(new_id, address);
    UPDATE public.users SET google_subject = subject WHERE id = uid AND google_subject IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN uid;
END
$$;
-- +goose StatementEnd

-- A new session for a user, showing the first workspace they belong to (oldest membership).
CREATE FUNCTION relm_new_session(session_id text, token bytea, uid text, agent text, ttl interval) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.sessions (id, token_hash, user_id, shown_workspace, user_agent, expires_at)
    VALUES (session_id, token, uid,
        (SELECT m.workspace_id FROM public.memberships m WHERE m.user_id = uid ORDER BY m.created_at, m.workspace_id LIMIT 1),
        left(agent, 200), clock_timestamp() + ttl)
$$;

-- The live session with token (its hash): its user, and the workspace it shows with the
-- user's role there (NULL workspace when the user is no longer a member or has none).
-- +goose StatementBegin
CREATE FUNCTION relm_session(token bytea)
RETURNS TABLE (session_id text, user_id text, email text, workspace_id text, workspace_name text, plan text,
    mode relm_mode, role text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.sessions s SET last_seen_at = clock_timestamp()
    WHERE s.token_hash = token AND s.last_seen_at < clock_timestamp() - interval '5 minutes';
    RETURN QUERY
    SELECT s.id, u.id, u.email, w.id, w.name, w.plan, s.mode, m.role
    FROM public.sessions s JOIN public.users u ON u.id = s.user_id
    LEFT JOIN public.memberships m ON m.workspace_id = s.shown_workspace AND m.user_id = s.user_id
    LEFT JOIN public.workspaces w ON w.id = m.workspace_id
    WHERE s.token_hash = token AND s.revoked_at IS NULL AND s.expires_at > clock_timestamp();
END
$$;
-- +goose StatementEnd

-- Signs one session out, or every session of its user (everywhere).
CREATE FUNCTION relm_end_sessions(token bytea, everywhere boolean) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH ended AS (
        UPDATE public.sessions SET revoked_at = clock_timestamp()
        WHERE revoked_at IS NULL AND (token_hash = token OR everywhere
            AND user_id = (SELECT s.user_id FROM public.sessions s WHERE s.token_hash = token))
        RETURNING 1)
    SELECT count(*) FROM ended
$$;

-- A session shows another workspace the user belongs to, and a mode. False when not a member.
CREATE FUNCTION relm_switch_session(token bytea, ws text, m relm_mode) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH switched AS (
        UPDATE public.sessions s SET shown_workspace = ws, mode = m
        WHERE s.token_hash = token AND s.revoked_at IS NULL
          AND EXISTS (SELECT 1 FROM public.memberships WHERE workspace_id = ws AND user_id = s.user_id)
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM switched)
$$;

-- The workspaces a user belongs to, with their role (sandboxes are not listed: no one is a member).
CREATE FUNCTION relm_user_workspaces(uid text)
RETURNS TABLE (workspace_id text, name text, plan text, role text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT w.id, w.name, w.plan, m.role, w.created_at FROM public.memberships m JOIN public.workspaces w ON w.id = m.workspace_id
    WHERE m.user_id = uid ORDER BY w.name
$$;

-- A user makes a workspace (name must be free) and owns it; false when the name is taken.
-- +goose StatementBegin
CREATE FUNCTION relm_create_user_workspace(uid text, ws text, ws_name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO public.workspaces (id, name) VALUES (ws, ws_name) ON CONFLICT (name) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO public.memberships (workspace_id, user_id, role) VALUES (ws, uid, 'owner');
    RETURN true;
END
$$;
-- +goose StatementEnd

-- An owner sets their workspace's plan; false when uid does not own ws.
CREATE FUNCTION relm_set_plan(uid text, ws text, new_plan text) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH changed AS (
        UPDATE public.workspaces SET plan = new_plan
        WHERE id = ws AND EXISTS (SELECT 1 FROM public.memberships WHERE workspace_id = ws AND user_id = uid AND role = 'owner')
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM changed)
$$;

-- The members of a workspace uid belongs to, and its open invitations (kind 'member' or 'invitation').
CREATE FUNCTION relm_workspace_people(uid text, ws text)
RETURNS TABLE (kind text, id text, email text, role text, created_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT 'member', u.id, u.email, m.role, m.created_at, NULL::timestamptz
    FROM public.memberships m JOIN public.users u ON u.id = m.user_id
    WHERE m.workspace_id = ws AND EXISTS (SELECT 1 FROM public.memberships me WHERE me.workspace_id = ws AND me.user_id = uid)
    UNION ALL
    SELECT 'invitation', i.id, i.email, i.role, i.created_at, i.expires_at FROM public.invitations i
    WHERE i.workspace_id = ws AND i.accepted_at IS NULL AND i.expires_at > clock_timestamp()
      AND EXISTS (SELECT 1 FROM public.memberships me WHERE me.workspace_id = ws AND me.user_id = uid)
    ORDER BY 1 DESC, 3
$$;

-- An owner or admin invites an address to ws with role (an admin cannot invite admins);
-- false when uid may not.
-- +goose StatementBegin
CREATE FUNCTION relm_invite(uid text, ws text, invitation_id text, address text, new_role text, token bytea, ttl interval)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    my_role text;
BEGIN
    SELECT role INTO my_role FROM public.memberships WHERE workspace_id = ws AND user_id = uid;
    IF my_role IS NULL OR my_role = 'member' OR (my_role = 'admin' AND new_role <> 'member') THEN
        RETURN false;
    END IF;
    INSERT INTO public.invitations (workspace_id, id, email, role, token_hash, invited_by, expires_at)
    VALUES (ws, invitation_id, address, new_role, token, uid, clock_timestamp() + ttl);
    RETURN true;
END
$$;
-- +goose StatementEnd

-- The open invitation with token (its hash): its workspace's name, address and role.
CREATE FUNCTION relm_invitation(token bytea) RETURNS TABLE (workspace_id text, workspace_name text, email text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT i.workspace_id, w.name, i.email, i.role FROM public.invitations i JOIN public.workspaces w ON w.id = i.workspace_id
    WHERE i.token_hash = token AND i.accepted_at IS NULL AND i.expires_at > clock_timestamp()
$$;

-- uid accepts an open invitation sent to their address; returns its workspace, or NULL.
-- +goose StatementBegin
CREATE FUNCTION relm_accept_invitation(uid text, token bytea) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    inv public.invitations;
BEGIN
    UPDATE public.invitations i SET accepted_at = clock_timestamp()
    WHERE i.token_hash = token AND i.accepted_at IS NULL AND i.expires_at > clock_timestamp()
      AND lower(i.email) = (SELECT lower(u.email) FROM public.users u WHERE u.id = uid)
    RETURNING * INTO inv;
    IF inv.id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.memberships (workspace_id, user_id, role) VALUES (inv.workspace_id, uid, inv.role)
    ON CONFLICT (workspace_id, user_id) DO NOTHING;
    RETURN inv.workspace_id;
END
$$;
-- +goose StatementEnd

-- An owner removes a member (not the last owner) or withdraws an invitation; an admin may
-- do so for members and invitations to member. False when uid may not or nothing matched.
-- +goose StatementBegin
CREATE FUNCTION relm_remove_person(uid text, ws text, person text) RETURNS boolean
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

-- uid claims the first-start workspace with the claim link's token (its hash); returns the
-- workspace, or NULL when the link was used or replaced.
-- +goose StatementBegin
CREATE FUNCTION relm_claim_workspace(uid text, token bytea) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    ws text;
BEGIN
    DELETE FROM public.workspace_claims WHERE token_hash = token RETURNING workspace_id INTO ws;
    IF ws IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.memberships (workspace_id, user_id, role) VALUES (ws, uid, 'owner')
    ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = 'owner';
    RETURN ws;
END
$$;
-- +goose StatementEnd

-- The server removes sessions a week after they ended or expired, and dead sign-in codes.
-- +goose StatementBegin
CREATE FUNCTION relm_purge_sessions() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM public.sessions
    WHERE expires_at < clock_timestamp() - interval '7 days' OR revoked_at < clock_timestamp() - interval '7 days';
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM public.sign_in_codes WHERE expires_at < clock_timestamp() - interval '1 day';
    RETURN n;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION relm_purge_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_purge_sessions() TO relm_app;

REVOKE ALL ON FUNCTION relm_new_sign_in_code(text, text, bytea, bytea, interval, int, interval),
    relm_user_for_email(text, text), relm_use_sign_in_code(text, bytea, int, text), relm_sign_in_link(bytea),
    relm_use_sign_in_link(bytea, text), relm_user_for_google(text, text, text),
    relm_new_session(text, bytea, text, text, interval), relm_session(bytea), relm_end_sessions(bytea, boolean),
    relm_switch_session(bytea, text, relm_mode), relm_user_workspaces(text), relm_create_user_workspace(text, text, text),
    relm_set_plan(text, text, text), relm_workspace_people(text, text),
    relm_invite(text, text, text, text, text, bytea, interval), relm_invitation(bytea),
    relm_accept_invitation(text, bytea), relm_remove_person(text, text, text), relm_claim_workspace(text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_new_sign_in_code(text, text, bytea, bytea, interval, int, interval),
    relm_user_for_email(text, text), relm_use_sign_in_code(text, bytea, int, text), relm_sign_in_link(bytea),
    relm_use_sign_in_link(bytea, text), relm_user_for_google(text, text, text),
    relm_new_session(text, bytea, text, text, interval), relm_session(bytea), relm_end_sessions(bytea, boolean),
    relm_switch_session(bytea, text, relm_mode), relm_user_workspaces(text), relm_create_user_workspace(text, text, text),
    relm_set_plan(text, text, text), relm_workspace_people(text, text),
    relm_invite(text, text, text, text, text, bytea, interval), relm_invitation(bytea),
    relm_accept_invitation(text, bytea), relm_remove_person(text, text, text), relm_claim_workspace(text, bytea) TO relm_app;

-- +goose Down
DROP FUNCTION relm_purge_sessions();
DROP FUNCTION relm_new_sign_in_code(text, text, bytea, bytea, interval, int, interval),
    relm_use_sign_in_code(text, bytea, int, text), relm_sign_in_link(bytea),
    relm_use_sign_in_link(bytea, text), relm_user_for_google(text, text, text), relm_user_for_email(text, text),
    relm_new_session(text, bytea, text, text, interval), relm_session(bytea), relm_end_sessions(bytea, boolean),
    relm_switch_session(bytea, text, relm_mode), relm_user_workspaces(text), relm_create_user_workspace(text, text, text),
    relm_set_plan(text, text, text), relm_workspace_people(text, text),
    relm_invite(text, text, text, text, text, bytea, interval), relm_invitation(bytea),
    relm_accept_invitation(text, bytea), relm_remove_person(text, text, text), relm_claim_workspace(text, bytea);
DROP TABLE workspace_claims, invitations, memberships, sessions, sign_in_codes, users;
