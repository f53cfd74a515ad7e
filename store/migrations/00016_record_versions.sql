-- Optimistic concurrency: every record carries a version, 1 when created and one more after
-- every UPDATE that changes its row, whatever makes it (the API's updates, a batch upsert, a stage key
-- renamed in cascade, a reference cleared by ON DELETE SET NULL), and field_versions: for
-- each column that has changed since the row was created, the version that last changed it.
-- A write made against an older version is refused naming the current version and the
-- fields changed since (docs/api.md, "Optimistic concurrency"); both columns are kept by one
-- BEFORE UPDATE trigger, so no path can change a record without moving its version.
-- +goose Up
ALTER TABLE contacts ADD COLUMN version bigint NOT NULL DEFAULT 1, ADD COLUMN field_versions jsonb NOT NULL DEFAULT '{}';
ALTER TABLE companies ADD COLUMN version bigint NOT NULL DEFAULT 1, ADD COLUMN field_versions jsonb NOT NULL DEFAULT '{}';
ALTER TABLE deals ADD COLUMN version bigint NOT NULL DEFAULT 1, ADD COLUMN field_versions jsonb NOT NULL DEFAULT '{}';
ALTER TABLE activities ADD COLUMN version bigint NOT NULL DEFAULT 1, ADD COLUMN field_versions jsonb NOT NULL DEFAULT '{}';

-- The next version of a row, with its changed columns in field_versions. The columns that
-- are not the record's data (keys, the generated search vector, timestamps and these two)
-- are not compared. An UPDATE that changes no data (setting values the row already has) is
-- no change: version, field_versions and updated_at stay as they were.
-- +goose StatementBegin
CREATE FUNCTION relm_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD);
    changed text[];
BEGIN
    SELECT array_agg(n.key) INTO changed
    FROM jsonb_each(to_jsonb(NEW)) AS n
    WHERE n.key NOT IN ('id', 'workspace_id', 'mode', 'search', 'created_at', 'updated_at', 'version', 'field_versions')
      AND n.value IS DISTINCT FROM old_row -> n.key;
    IF changed IS NULL THEN
        NEW.version := OLD.version;
        NEW.field_versions := OLD.field_versions;
        NEW.updated_at := OLD.updated_at;
    ELSE
        NEW.version := OLD.version + 1;
        NEW.field_versions := OLD.field_versions || (SELECT jsonb_object_agg(c, NEW.version) FROM unnest(changed) AS c);
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER contacts_version BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION relm_next_version();
CREATE TRIGGER companies_version BEFORE UPDATE ON companies FOR EACH ROW EXECUTE FUNCTION relm_next_version();
CREATE TRIGGER deals_version BEFORE UPDATE ON deals FOR EACH ROW EXECUTE FUNCTION relm_next_version();
CREATE TRIGGER activities_version BEFORE UPDATE ON activities FOR EACH ROW EXECUTE FUNCTION relm_next_version();

-- +goose Down
DROP TRIGGER activities_version ON activities;
DROP TRIGGER deals_version ON deals;
DROP TRIGGER companies_version ON companies;
DROP TRIGGER contacts_version ON contacts;
DROP FUNCTION relm_next_version();
ALTER TABLE activities DROP COLUMN field_versions, DROP COLUMN version;
ALTER TABLE deals DROP COLUMN field_versions, DROP COLUMN version;
ALTER TABLE companies DROP COLUMN field_versions, DROP COLUMN version;
ALTER TABLE contacts DROP COLUMN field_versions, DROP COLUMN version;
