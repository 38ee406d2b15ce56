package apistore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
)

// claimAttempts bounds Claim's loop: a competing Release or expiry between
// its statements sends it round again, at most this often.
const claimAttempts = 3

// Claim inserts rec as in flight (status 0) unless an unexpired record of
// its scope (key id, method, path, Idempotency-Key) exists; then it returns
// that record and claimed false. The INSERT comes first, so of two
// concurrent first requests exactly one claims. An expired record is
// replaced with a conditional UPDATE (one winner again).
//
// An in-flight claim expires after InFlightTTL rather than rec.ExpiresAt,
// so a claim left by a dead API process blocks retries only briefly;
// Complete sets the full expiry (rec.ExpiresAt, default 24 h from now).
func (s *Store) Claim(ctx context.Context, rec api.IdempotencyRecord) (api.IdempotencyRecord, bool, error) {
	for range claimAttempts {
		now := s.clock()
		inFlightUntil := now.Add(s.inFlightTTL)
		if exp := s.expiry(rec); exp.Before(inFlightUntil) {
			inFlightUntil = exp
		}
		_, err := s.db.ExecContext(ctx, `INSERT INTO jetmon_idempotency_keys
			(api_key_id, method, path, idem_key, request_hash, status, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?)`,
			rec.KeyID, rec.Method, rec.Path, rec.Key, rec.RequestHash, inFlightUntil)
		if err == nil {
			out := rec
			out.Status, out.Header, out.Body, out.ExpiresAt = 0, nil, nil, inFlightUntil
			return out, true, nil
		}
		if !isMySQLError(err, errDupEntry) {
			return api.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		existing, err := s.idempotencyRecord(ctx, rec)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released in between: insert again
		}
		if err != nil {
			return api.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		if existing.ExpiresAt.After(now) {
			return existing, false, nil
		}
		replaced, err := s.replaceExpired(ctx, rec, now, inFlightUntil)
		if err != nil {
			return api.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		if replaced {
			out := rec
			out.Status, out.Header, out.Body, out.ExpiresAt = 0, nil, nil, inFlightUntil
			return out, true, nil
		}
	}
	return api.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %d attempts raced with other requests",
		claimAttempts)
}

// expiry is when rec's stored response stops being replayed.
func (s *Store) expiry(rec api.IdempotencyRecord) time.Time {
	if rec.ExpiresAt.IsZero() {
		return s.clock().Add(DefaultIdempotencyTTL)
	}
	return ms(rec.ExpiresAt)
}

// replaceExpired takes over an expired record of rec's scope; false when
// another request took it (or it was removed) first.
func (s *Store) replaceExpired(ctx context.Context, rec api.IdempotencyRecord, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE jetmon_idempotency_keys
		SET request_hash = ?, status = 0, headers = NULL, body = NULL, created_at = ?, expires_at = ?
		WHERE api_key_id = ? AND method = ? AND path = ? AND idem_key = ? AND expires_at <= ?`,
		rec.RequestHash, now, until, rec.KeyID, rec.Method, rec.Path, rec.Key, now)
	if err != nil {
		return false, fmt.Errorf("replace expired: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("replace expired: %w", err)
	}
	return n == 1, nil
}

// idempotencyRecord reads the record of rec's scope; an error wrapping
// sql.ErrNoRows when there is none.
func (s *Store) idempotencyRecord(ctx context.Context, rec api.IdempotencyRecord) (api.IdempotencyRecord, error) {
	out := api.IdempotencyRecord{KeyID: rec.KeyID, Method: rec.Method, Path: rec.Path, Key: rec.Key}
	var headers []byte
	err := s.db.QueryRowContext(ctx, `SELECT request_hash, status, headers, body, expires_at
		FROM jetmon_idempotency_keys WHERE api_key_id = ? AND method = ? AND path = ? AND idem_key = ?`,
		rec.KeyID, rec.Method, rec.Path, rec.Key).Scan(&out.RequestHash, &out.Status, &headers, &out.Body, &out.ExpiresAt)
	if err != nil {
		return api.IdempotencyRecord{}, fmt.Errorf("read record: %w", err)
	}
	out.ExpiresAt = out.ExpiresAt.UTC()
	if len(headers) > 0 && !isNull(headers) {
		if err := json.Unmarshal(headers, &out.Header); err != nil {
			return api.IdempotencyRecord{}, fmt.Errorf("stored headers: %w", err)
		}
	}
	return out, nil
}

// Complete stores the response of a claimed record (rec.Status, Header and
// Body) until rec.ExpiresAt (default 24 h from now). The claim must still
// be in flight with the same request hash; otherwise (it expired and was
// taken over, or was released) api.ErrNotFound.
func (s *Store) Complete(ctx context.Context, rec api.IdempotencyRecord) error {
	if rec.Status <= 0 {
		return fmt.Errorf("complete idempotency key: status %d must be an HTTP status", rec.Status)
	}
	var headers any
	if rec.Header != nil {
		b, err := json.Marshal(rec.Header)
		if err != nil {
			return fmt.Errorf("complete idempotency key: encode headers: %w", err)
		}
		headers = b
	}
	body := rec.Body
	if body == nil {
		body = []byte{}
	}
	res, err := s.db.ExecContext(ctx, `UPDATE jetmon_idempotency_keys SET status = ?, headers = ?, body = ?, expires_at = ?
		WHERE api_key_id = ? AND method = ? AND path = ? AND idem_key = ? AND request_hash = ? AND status = 0`,
		rec.Status, headers, body, s.expiry(rec), rec.KeyID, rec.Method, rec.Path, rec.Key, rec.RequestHash)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	} else if n != 1 {
		return notFound("complete idempotency key: no in-flight claim")
	}
	return nil
}

// Release deletes a claimed record that is still in flight with rec's
// request hash (its request failed with a 5xx), so the client may retry.
// Releasing a record that is gone is not an error.
func (s *Store) Release(ctx context.Context, rec api.IdempotencyRecord) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM jetmon_idempotency_keys
		WHERE api_key_id = ? AND method = ? AND path = ? AND idem_key = ? AND request_hash = ? AND status = 0`,
		rec.KeyID, rec.Method, rec.Path, rec.Key, rec.RequestHash)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency removes records that expired before now, at most
// limit of them; it returns how many. Expired records are never replayed
// (Claim replaces them), so this only bounds the table.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM jetmon_idempotency_keys WHERE expires_at <= ? LIMIT ?`,
		s.clock(), limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return n, nil
}
