package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/auth"
)

// IdempotencyTTL is how long an idempotency key and its response are kept.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a claimed key stays in progress before a request with the
// same key and the same body may take it over, the first one being presumed dead.
const IdempotencyLease = 2 * time.Minute

// IdempotencyState is what claiming an idempotency key found.
type IdempotencyState int

const (
	// IdempotencyClaimed: the key is this request's; run it, then FinishIdempotencyKey.
	IdempotencyClaimed IdempotencyState = iota
	// IdempotencyReplay: the same request already ran; its response is in Status and Body.
	IdempotencyReplay
	// IdempotencyConflict: the key was used for a different request.
	IdempotencyConflict
	// IdempotencyInProgress: a request with the key is still running.
	IdempotencyInProgress
)

// IdempotencyClaim is the outcome of ClaimIdempotencyKey.
type IdempotencyClaim struct {
	State  IdempotencyState
	Key    string
	Status int    // the stored response, for IdempotencyReplay
	Body   []byte // the stored response, for IdempotencyReplay
	// Age is how long the request holding the key has been running, by the database's
	// clock, for IdempotencyInProgress; its lease ends at IdempotencyLease.
	Age time.Duration
	// claimedAt identifies this claim, so a request whose claim was taken over cannot
	// finish the one that replaced it.
	claimedAt time.Time
}

// ErrIdempotencyClaimLost means a claim was taken over (its request outlived the lease) or
// purged before it was finished; the response was not stored.
var ErrIdempotencyClaimLost = errors.New("store: idempotency claim lost")

// ClaimIdempotencyKey claims key for the request identified by hash in tenant t, in its own
// transaction committed at once, so concurrent requests with the same key see the claim.
// A key older than IdempotencyTTL counts as new; a claim older than IdempotencyLease with
// the same hash is taken over.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, t auth.Caller, key string, hash []byte) (IdempotencyClaim, error) {
	c := IdempotencyClaim{Key: key}
	err := s.InTx(ctx, t, func(tx *Tx) error {
		// A finished 5xx deletes its row; should that happen between our insert and our
		// read, the key is free again and we try once more.
		for range 3 {
			done, err := tx.claimIdempotencyKey(ctx, &c, hash)
			if err != nil || done {
				return err
			}
		}
		return errors.New("the key keeps being released")
	})
	return c, wrap("claim idempotency key", err)
}

func (tx *Tx) claimIdempotencyKey(ctx context.Context, c *IdempotencyClaim, hash []byte) (bool, error) {
	ws, mode := tx.t.WorkspaceID, string(tx.t.Mode)
	err := tx.tx.QueryRow(ctx, `
		INSERT INTO idempotency_keys (workspace_id, mode, key, request_hash, state, created_at)
		VALUES ($1, $2, $3, $4, 'in_progress', clock_timestamp())
		ON CONFLICT DO NOTHING
		RETURNING created_at`, ws, mode, c.Key, hash).Scan(&c.claimedAt)
	if err == nil {
		c.State = IdempotencyClaimed
		return true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	// Replace an expired key, or take over the stale claim of an identical request.
	err = tx.tx.QueryRow(ctx, `
		UPDATE idempotency_keys
		SET request_hash = $4, state = 'in_progress', status = NULL, body = NULL, created_at = clock_timestamp()
		WHERE workspace_id = $1 AND mode = $2 AND key = $3
		  AND (created_at < clock_timestamp() - make_interval(secs => $5)
		       OR (state = 'in_progress' AND request_hash = $4 AND created_at < clock_timestamp() - make_interval(secs => $6)))
		RETURNING created_at`, ws, mode, c.Key, hash, IdempotencyTTL.Seconds(), IdempotencyLease.Seconds()).Scan(&c.claimedAt)
	if err == nil {
		c.State = IdempotencyClaimed
		return true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	var (
		stored []byte
		state  string
		status *int32
		age    float64
	)
	err = tx.tx.QueryRow(ctx, `
		SELECT request_hash, state, status, body, extract(epoch FROM clock_timestamp() - created_at)::float8
		FROM idempotency_keys
		WHERE workspace_id = $1 AND mode = $2 AND key = $3`, ws, mode, c.Key).Scan(&stored, &state, &status, &c.Body, &age)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch {
	case !bytes.Equal(stored, hash):
		c.State, c.Body = IdempotencyConflict, nil
	case state == "in_progress":
		c.State, c.Body = IdempotencyInProgress, nil
		c.Age = time.Duration(max(age, 0) * float64(time.Second))
	case status == nil:
		return false, fmt.Errorf("key %q is done without a status", c.Key)
	default:
		c.State, c.Status = IdempotencyReplay, int(*status)
	}
	return true, nil
}

// FinishIdempotencyKey stores the response of a claimed request for replay, or, for a 5xx,
// releases the key so that a retry runs the request again.
func (s *Store) FinishIdempotencyKey(ctx context.Context, t auth.Caller, c IdempotencyClaim, status int, body []byte) error {
	if c.State != IdempotencyClaimed {
		return fmt.Errorf("store: finish idempotency key %q: not claimed", c.Key)
	}
	err := s.InTx(ctx, t, func(tx *Tx) error {
		ws, mode := tx.t.WorkspaceID, string(tx.t.Mode)
		var err error
		var n int64
		if status >= 500 {
			tag, e := tx.tx.Exec(ctx, `
				DELETE FROM idempotency_keys
				WHERE workspace_id = $1 AND mode = $2 AND key = $3 AND state = 'in_progress' AND created_at = $4`,
				ws, mode, c.Key, c.claimedAt)
			err, n = e, tag.RowsAffected()
		} else {
			tag, e := tx.tx.Exec(ctx, `
				UPDATE idempotency_keys SET state = 'done', status = $5, body = $6
				WHERE workspace_id = $1 AND mode = $2 AND key = $3 AND state = 'in_progress' AND created_at = $4`,
				ws, mode, c.Key, c.claimedAt, status, body)
			err, n = e, tag.RowsAffected()
		}
		if err == nil && n == 0 {
			return ErrIdempotencyClaimLost
		}
		return err
	})
	return wrap("finish idempotency key", err)
}

// PurgeIdempotencyKeys deletes the keys of every tenant older than IdempotencyTTL and
// returns how many it deleted. It crosses tenants, so it runs the definer function
// relm_purge_idempotency_keys, which holds the same 24 hours.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT relm_purge_idempotency_keys()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return n, nil
}
