-- Request logs are written for every REST request and MCP tool call, so a row must be cheap
-- to add to a table that holds 30 days of them. Measured on the benchmark's database (2.4
-- million rows), a row cost about 120 µs of PostgreSQL time, more than the point read it logged:
-- - a foreign-key check on workspaces per row, each a FOR KEY SHARE lock on the same hot row;
-- - the page index ordered DESC: each new row goes to the left end of its tenant's range,
--   where a full page splits in half, so the index grew to twice its size;
-- - random ids, which put each primary-key entry on a random page of a large index (request
--   log ids now begin with the time: store.NewTimeID).
-- And the retention purge read the whole table: it compared created_at with clock_timestamp(),
-- which is volatile and so never an index condition, and new BRIN ranges were summarized
-- only by VACUUM. On that table it took 1.5 s and now 70 ms; the idempotency keys' purge
-- had the same fault.
-- +goose Up

-- A workspace's logs go with it through a trigger, not a foreign key. RecordRequests locks
-- the tenant's workspace row once per batch (FOR KEY SHARE, which needs more than the SELECT
-- that relm_app holds, hence the function), so a deletion waits for a batch in flight and
-- its trigger then sees that batch's rows; a batch after the deletion finds no row to lock.
ALTER TABLE request_logs DROP CONSTRAINT request_logs_workspace_id_fkey;
CREATE FUNCTION relm_lock_tenant_workspace() RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workspaces WHERE id = public.relm_tenant_workspace() FOR KEY SHARE)
$$;
REVOKE ALL ON FUNCTION relm_lock_tenant_workspace() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relm_lock_tenant_workspace() TO relm_app;
-- +goose StatementBegin
CREATE FUNCTION relm_delete_request_logs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    DELETE FROM public.request_logs WHERE workspace_id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION relm_delete_request_logs() FROM PUBLIC;
CREATE TRIGGER workspaces_request_logs AFTER DELETE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION relm_delete_request_logs();
-- What a deletion before this migration left behind, if anything.
DELETE FROM request_logs l WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = l.workspace_id);

-- Ascending, so that new rows append to their tenant's range; newest-first lists read it
-- backwards. Rebuilding it blocks writes to request_logs for as long as the build takes
-- (seconds per few million rows). A server migrates before it serves; other processes still
-- running hold their logs in their buffers meanwhile (--log-buffer), and drop, counted, what
-- does not fit.
DROP INDEX request_logs_page;
CREATE INDEX request_logs_page ON request_logs (workspace_id, mode, created_at, id);

ALTER INDEX request_logs_created SET (autosummarize = on);
SELECT brin_summarize_new_values('request_logs_created');
CREATE OR REPLACE FUNCTION relm_purge_request_logs() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.request_logs WHERE created_at < statement_timestamp() - interval '30 days' RETURNING 1)
    SELECT count(*) FROM gone
$$;
CREATE OR REPLACE FUNCTION relm_purge_idempotency_keys() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.idempotency_keys WHERE created_at < statement_timestamp() - interval '24 hours' RETURNING 1)
    SELECT count(*) FROM gone
$$;

-- +goose Down
CREATE OR REPLACE FUNCTION relm_purge_request_logs() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.request_logs WHERE created_at < clock_timestamp() - interval '30 days' RETURNING 1)
    SELECT count(*) FROM gone
$$;
CREATE OR REPLACE FUNCTION relm_purge_idempotency_keys() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.idempotency_keys WHERE created_at < clock_timestamp() - interval '24 hours' RETURNING 1)
    SELECT count(*) FROM gone
$$;
ALTER INDEX request_logs_created RESET (autosummarize);
DROP INDEX request_logs_page;
CREATE INDEX request_logs_page ON request_logs (workspace_id, mode, created_at DESC, id DESC);
DROP TRIGGER workspaces_request_logs ON workspaces;
DROP FUNCTION relm_delete_request_logs(), relm_lock_tenant_workspace();
DELETE FROM request_logs l WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = l.workspace_id);
ALTER TABLE request_logs ADD FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE;
