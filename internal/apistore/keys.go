package apistore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// tokenBytes is how much randomness a token carries.
const tokenBytes = 32

// NewToken returns a fresh token: uptime.APITokenPrefix ("jm_") and the
// unpadded base32 of 32 random bytes (55 characters).
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return uptime.APITokenPrefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// keyColumns are the jetmon_api_keys columns scanKey reads.
const keyColumns = `id, key_hash, consumer_name, scope, rate_limit_per_minute, expires_at, revoked_at,
       last_used_at, created_by, created_at`

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scanKey reads one keyColumns row.
func scanKey(r rowScanner) (uptime.APIKey, error) {
	var (
		k                      uptime.APIKey
		scope                  string
		expires, revoked, used sql.NullTime
	)
	if err := r.Scan(&k.ID, &k.Hash, &k.Consumer, &scope, &k.RateLimitPerMinute, &expires, &revoked, &used,
		&k.CreatedBy, &k.CreatedAt); err != nil {
		return uptime.APIKey{}, err
	}
	k.Scope = uptime.Scope(scope)
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = timeOf(expires), timeOf(revoked), timeOf(used)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// KeyByHash returns the key whose token hashes to hash, or api.ErrNotFound.
// It returns revoked and expired keys too: the caller applies
// uptime.APIKey.ValidAt.
func (s *Store) KeyByHash(ctx context.Context, hash string) (uptime.APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM jetmon_api_keys WHERE key_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.APIKey{}, notFound("api key")
	}
	if err != nil {
		return uptime.APIKey{}, fmt.Errorf("read api key: %w", err)
	}
	return k, nil
}

// TouchKey sets last_used_at to at unless it is already later (so
// concurrent API processes never move it back).
func (s *Store) TouchKey(ctx context.Context, id int64, at time.Time) error {
	at = ms(at)
	_, err := s.db.ExecContext(ctx, `UPDATE jetmon_api_keys SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, at, id, at)
	if err != nil {
		return fmt.Errorf("touch api key %d: %w", id, err)
	}
	return nil
}

// keyByID reads a key by id on q (the pool or a transaction); forUpdate
// locks its row.
func keyByID(ctx context.Context, q querier, id int64, forUpdate bool) (uptime.APIKey, error) {
	query := `SELECT ` + keyColumns + ` FROM jetmon_api_keys WHERE id = ?`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	k, err := scanKey(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.APIKey{}, notFound("api key %d", id)
	}
	if err != nil {
		return uptime.APIKey{}, fmt.Errorf("read api key %d: %w", id, err)
	}
	return k, nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
