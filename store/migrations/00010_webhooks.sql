-- Webhook endpoints, their deliveries and each delivery's attempts. Deliveries are created
-- in the transaction that records their events (store.Tx.RecordEvents) and worked by the
-- job queue, whose tables (River's) live in the schema "river", migrated by store.Migrate.
-- +goose Up
CREATE SCHEMA river;
GRANT USAGE ON SCHEMA river TO relm_app;

-- relm_random_id makes an id like store.NewID: prefix, then 16 random bytes in lowercase
-- base32 without padding (26 characters of a-z2-7).
-- +goose StatementBegin
CREATE FUNCTION relm_random_id(prefix text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    bytes bytea := uuid_send(gen_random_uuid()) ;
    alphabet text := 'abcdefghijklmnopqrstuvwxyz234567';
    out text := prefix;
    buffer int := 0;
    bits int := 0;
BEGIN
    FOR i IN 0..15 LOOP
        buffer := (buffer << 8) | get_byte(bytes, i);
        bits := bits + 8;
        WHILE bits >= 5 LOOP
            out := out || substr(alphabet, ((buffer >> (bits - 5)) & 31) + 1, 1);
            bits := bits - 5;
        END LOOP;
        buffer := buffer & ((1 << bits) - 1);
    END LOOP;
    RETURN out || substr(alphabet, ((buffer << (5 - bits)) & 31) + 1, 1);
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION relm_random_id(text) TO relm_app;

CREATE TABLE webhook_endpoints (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    url          text NOT NULL,
    events       text[] NOT NULL,
    description  text,
    enabled      boolean NOT NULL DEFAULT true,
    -- Why the endpoint was disabled by Relm (a 410 Gone answer); null when enabled, or
    -- disabled by its owner.
    disabled_reason text,
    secret       text NOT NULL,
    -- The secret before the last rotation, still signing until previous_secret_expires_at.
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, mode, id)
);
CREATE INDEX webhook_endpoints_list ON webhook_endpoints (workspace_id, mode, created_at DESC, id DESC);

CREATE TABLE webhook_deliveries (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    mode            relm_mode NOT NULL,
    endpoint_id     text NOT NULL,
    event_id        text NOT NULL,
    event_type      text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed')),
    attempt_count   int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, mode, endpoint_id) REFERENCES webhook_endpoints (workspace_id, mode, id) ON DELETE CASCADE,
    UNIQUE (workspace_id, mode, id)
);
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (workspace_id, mode, endpoint_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    workspace_id  text NOT NULL,
    mode          relm_mode NOT NULL,
    delivery_id   text NOT NULL,
    number        int NOT NULL,
    status_code   int,
    latency_ms    int NOT NULL,
    response_body text,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, number),
    FOREIGN KEY (workspace_id, mode, delivery_id) REFERENCES webhook_deliveries (workspace_id, mode, id) ON DELETE CASCADE
);

-- relm_protect_tenant_table gives a tenant table what every tenant table has (migration
-- 00008): relm_app may read and write it, only within the tenant its transaction names.
-- The owner's tool for migrations; relm_app cannot call it.
-- +goose StatementBegin
CREATE FUNCTION relm_protect_tenant_table(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO relm_app', t);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant ON %s TO relm_app
        USING (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode())
        WITH CHECK (workspace_id = relm_tenant_workspace() AND mode = relm_tenant_mode())', t);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION relm_protect_tenant_table(regclass) FROM PUBLIC;

SELECT relm_protect_tenant_table(t) FROM unnest(ARRAY['webhook_endpoints', 'webhook_deliveries', 'webhook_attempts']::regclass[]) AS t;

-- +goose Down
DROP TABLE webhook_attempts, webhook_deliveries, webhook_endpoints;
DROP FUNCTION relm_random_id(text), relm_protect_tenant_table(regclass);
DROP SCHEMA river CASCADE;
