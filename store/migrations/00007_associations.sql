-- +goose Up
-- Associations are directed, optionally labelled edges between any two records (contacts,
-- companies, deals, activities) of one workspace and mode. Both ends are checked, and locked
-- FOR KEY SHARE, by the transaction that inserts the edge; deleting a record deletes its
-- edges (recording association.deleted events) in the deleting transaction.
CREATE TABLE associations (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mode         relm_mode NOT NULL,
    from_type    text NOT NULL CHECK (from_type IN ('contact', 'company', 'deal', 'activity')),
    from_id      text NOT NULL,
    to_type      text NOT NULL CHECK (to_type IN ('contact', 'company', 'deal', 'activity')),
    to_id        text NOT NULL,
    label        text CHECK (label <> ''),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- An id's prefix says its kind: the type beside it must agree.
    CONSTRAINT associations_from_prefix CHECK (from_id LIKE CASE from_type
        WHEN 'contact' THEN 'con\_%' WHEN 'company' THEN 'cmp\_%' WHEN 'deal' THEN 'deal\_%' WHEN 'activity' THEN 'act\_%' END),
    CONSTRAINT associations_to_prefix CHECK (to_id LIKE CASE to_type
        WHEN 'contact' THEN 'con\_%' WHEN 'company' THEN 'cmp\_%' WHEN 'deal' THEN 'deal\_%' WHEN 'activity' THEN 'act\_%' END),
    CONSTRAINT associations_two_ends CHECK (from_id <> to_id),
    -- One edge per from, to and label (no label counts as one value of its own).
    CONSTRAINT associations_edge UNIQUE NULLS NOT DISTINCT (workspace_id, mode, from_id, to_id, label)
);
CREATE INDEX associations_page ON associations (workspace_id, mode, created_at DESC, id DESC);
CREATE INDEX associations_from ON associations (workspace_id, mode, from_id, created_at DESC, id DESC);
CREATE INDEX associations_to ON associations (workspace_id, mode, to_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE associations;
