-- Undo: every event names the request that made its change (the Request-Id of the REST call
-- or MCP message; null for changes made by automations and for events recorded before this
-- migration), so that undo_request can find and revert every change of one request.
-- +goose Up
ALTER TABLE events ADD COLUMN request_id text;
CREATE INDEX events_request ON events (workspace_id, mode, request_id, created_at DESC, id DESC) WHERE request_id IS NOT NULL;

-- +goose Down
DROP INDEX events_request;
ALTER TABLE events DROP COLUMN request_id;
