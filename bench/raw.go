package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/store"
)

// rawCall does an operation's work straight on PostgreSQL, as the table owner, with the
// fewest round trips: what the server is measured against. These statements mirror those
// in store/ by hand; they are the baseline, not a second data layer.
type rawCall func(ctx context.Context, db *pgxpool.Pool, args map[string]any) error

// openRaw opens a pool of exactly conns connections as the owner. enable_seqscan is off as
// in the search functions (migration 00008); the other statements use their indexes anyway.
func (b *bench) openRaw(ctx context.Context, conns int) (*pgxpool.Pool, error) {
	cfg, err := b.rawConfig()
	if err != nil {
		return nil, err
	}
	cfg.MaxConns, cfg.MinConns = int32(conns), int32(conns)
	return pgxpool.NewWithConfig(ctx, cfg)
}

// rawConfig is the configuration of a pool as the owner, with enable_seqscan off.
func (b *bench) rawConfig() (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(b.url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	return cfg, nil
}

const rawContactCols = `id, email, first_name, last_name, phone, company_id, metadata, mode, created_at, updated_at`

// rawGet reads a contact with its 10 latest activities and 10 newest associations, in one
// pipelined round trip (one implicit transaction).
func (b *bench) rawGet(ctx context.Context, db *pgxpool.Pool, args map[string]any) error {
	ws, id := b.data.workspace, args["id"]
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+rawContactCols+` FROM contacts WHERE workspace_id = $1 AND mode = 'live' AND id = $2`, ws, id)
	batch.Queue(`SELECT id, type, subject, body, contact_id, deal_id, company_id, occurred_at, metadata, created_at, updated_at
		FROM activities WHERE workspace_id = $1 AND mode = 'live' AND contact_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT 10`, ws, id)
	batch.Queue(`SELECT id, from_type, from_id, to_type, to_id, label, created_at FROM associations
		WHERE workspace_id = $1 AND mode = 'live' AND (from_id = $2 OR to_id = $2) ORDER BY created_at DESC, id DESC LIMIT 10`, ws, id)
	res := db.SendBatch(ctx, batch)
	found := false
	for i := range 3 {
		rows, err := res.Query()
		if err != nil {
			res.Close()
			return err
		}
		for rows.Next() {
			found = found || i == 0
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			res.Close()
			return err
		}
	}
	if err := res.Close(); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("raw get: no contact %v", id)
	}
	return nil
}

// rawList reads the first page of contacts with an email, newest first.
func (b *bench) rawList(ctx context.Context, db *pgxpool.Pool, args map[string]any) error {
	rows, err := db.Query(ctx, `SELECT `+rawContactCols+` FROM contacts
		WHERE workspace_id = $1 AND mode = 'live' AND lower(email) = lower($2) ORDER BY created_at DESC, id DESC LIMIT 51`,
		b.data.workspace, args["email"])
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("raw list: %d contacts with email %v", n, args["email"])
	}
	return nil
}

// rawCreate inserts a contact and its contact.created event in one pipelined round trip
// (one implicit transaction), as the capability records both.
func (b *bench) rawCreate(ctx context.Context, db *pgxpool.Pool, args map[string]any) error {
	id := store.NewID("con_")
	data, err := json.Marshal(map[string]any{"object": "contact", "id": id, "email": args["email"],
		"first_name": args["first_name"], "last_name": args["last_name"], "created_at": time.Now().UTC()})
	if err != nil {
		return err
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO contacts (id, workspace_id, mode, email, first_name, last_name) VALUES ($1, $2, 'live', $3, $4, $5)
		RETURNING `+rawContactCols, id, b.data.workspace, args["email"], args["first_name"], args["last_name"])
	batch.Queue(`INSERT INTO events (id, workspace_id, mode, type, data) VALUES ($1, $2, 'live', 'contact.created', $3)`,
		store.NewID("evt_"), b.data.workspace, string(data))
	return db.SendBatch(ctx, batch).Close()
}

// rawSearch ranks the workspace's matches of a word as store.Search does: at most 1,000
// candidates per record kind from the GIN indexes, scored, best 21 first; one statement.
func (b *bench) rawSearch(ctx context.Context, db *pgxpool.Pool, args map[string]any) error {
	word := args["q"].(string)
	rows, err := db.Query(ctx, rawSearchSQL, b.data.workspace, "'"+lower(word)+"':*", "%"+lower(word)+"%")
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

const rawSearchSQL = `
SELECT kind, id, title, score FROM (
	SELECT 'contact' AS kind, id, coalesce(nullif(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ''), email, phone, id) AS title,
		(ts_rank(search, to_tsquery('simple', $2)) + CASE WHEN lower(email) LIKE $3 THEN 0.5 ELSE 0 END)::float8 AS score
	FROM (SELECT * FROM contacts WHERE workspace_id = $1 AND mode = 'live'
		AND (search @@ to_tsquery('simple', $2) OR lower(email) LIKE $3) LIMIT 1000) c
	UNION ALL
	SELECT 'company', id, name, (ts_rank(search, to_tsquery('simple', $2)) + CASE WHEN lower(domain) LIKE $3 THEN 0.5 ELSE 0 END)::float8
	FROM (SELECT * FROM companies WHERE workspace_id = $1 AND mode = 'live'
		AND (search @@ to_tsquery('simple', $2) OR lower(domain) LIKE $3) LIMIT 1000) c
	UNION ALL
	SELECT 'deal', id, title, ts_rank(search, to_tsquery('simple', $2))::float8
	FROM (SELECT * FROM deals WHERE workspace_id = $1 AND mode = 'live' AND search @@ to_tsquery('simple', $2) LIMIT 1000) d
	UNION ALL
	SELECT 'activity', id, coalesce(subject, type), ts_rank(search, to_tsquery('simple', $2))::float8
	FROM (SELECT * FROM activities WHERE workspace_id = $1 AND mode = 'live' AND search @@ to_tsquery('simple', $2) LIMIT 1000) a
) hits ORDER BY score DESC, id DESC LIMIT 21`

// rawBatch writes the request's rows with COPY, as the import comparison's baseline does
// (no events, no dedup).
func (b *bench) rawBatch(ctx context.Context, db *pgxpool.Pool, args map[string]any) error {
	return copyContacts(ctx, db, b.data.workspace, args["contacts"].([]map[string]any), nil, nil)
}
