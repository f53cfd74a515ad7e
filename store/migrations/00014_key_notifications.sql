-- Every server process caches authenticated keys (store.keyCache) and drops that cache when
-- any key is revoked or deleted, told by a notification on channel relm_keys sent at commit.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION relm_notify_key_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_notify('relm_keys', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION relm_notify_key_change();

-- +goose Down
DROP TRIGGER api_keys_changed ON api_keys;
DROP FUNCTION relm_notify_key_change();
