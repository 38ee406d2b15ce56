package apistore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Key administration errors (`jetmon keys`).
var (
	// ErrKeyRevoked refuses to rotate a key that is revoked or already
	// scheduled for revocation (rotated before).
	ErrKeyRevoked = errors.New("api key revoked")
	// ErrKeyExpired refuses to rotate an expired key: its replacement would
	// inherit no time at all (Jetmon v2 made it never expire).
	ErrKeyExpired = errors.New("api key expired")
)

// Limits of the jetmon_api_keys text columns.
const (
	maxConsumerLen  = 128
	maxCreatedByLen = 128
	defaultCreator  = "cli"
)

// NewKey describes a key to create.
type NewKey struct {
	Consumer string // required: who calls with it; "gateway" may send tenant headers
	Scope    uptime.Scope
	// RateLimitPerMinute is the key's bucket; 0 takes the scope's
	// uptime.Scope.DefaultRateLimit.
	RateLimitPerMinute int
	TTL                time.Duration // 0: never expires
	CreatedBy          string        // default "cli"
}

// validate checks nk and fills its defaults.
func (nk NewKey) validate() (NewKey, error) {
	if _, err := uptime.ParseScope(string(nk.Scope)); err != nil {
		return nk, err
	}
	if err := checkLabel("consumer", nk.Consumer, maxConsumerLen, true); err != nil {
		return nk, err
	}
	if err := checkLabel("created-by", nk.CreatedBy, maxCreatedByLen, false); err != nil {
		return nk, err
	}
	switch {
	case nk.RateLimitPerMinute < 0:
		return nk, fmt.Errorf("rate limit %d: must be >= 0 (0: the scope's default)", nk.RateLimitPerMinute)
	case nk.TTL < 0:
		return nk, fmt.Errorf("ttl %v: must be >= 0 (0: never expires)", nk.TTL)
	}
	if nk.RateLimitPerMinute == 0 {
		nk.RateLimitPerMinute = nk.Scope.DefaultRateLimit()
	}
	if nk.CreatedBy == "" {
		nk.CreatedBy = defaultCreator
	}
	return nk, nil
}

// checkLabel accepts printable text of at most maxLen characters (it is
// printed in tables and logs).
func checkLabel(name, v string, maxLen int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%s is required", name)
	case utf8.RuneCountInString(v) > maxLen:
		return fmt.Errorf("%s: at most %d characters", name, maxLen)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }):
		return fmt.Errorf("%s %q: must be printable text", name, v)
	}
	return nil
}

// CreateKey inserts a key and returns it with its token, which is not
// stored anywhere: the caller shows it once.
func (s *Store) CreateKey(ctx context.Context, nk NewKey) (uptime.APIKey, string, error) {
	nk, err := nk.validate()
	if err != nil {
		return uptime.APIKey{}, "", fmt.Errorf("create api key: %w", err)
	}
	var expires time.Time
	if nk.TTL > 0 {
		expires = s.clock().Add(nk.TTL)
	}
	var (
		key   uptime.APIKey
		token string
	)
	err = sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		key, token, err = insertKey(ctx, tx, nk, expires)
		return err
	})
	if err != nil {
		return uptime.APIKey{}, "", fmt.Errorf("create api key: %w", err)
	}
	return key, token, nil
}

// insertKey inserts a key with a fresh token and reads it back.
func insertKey(ctx context.Context, q querier, nk NewKey, expires time.Time) (uptime.APIKey, string, error) {
	token, err := NewToken()
	if err != nil {
		return uptime.APIKey{}, "", err
	}
	res, err := q.ExecContext(ctx, `INSERT INTO jetmon_api_keys
		(key_hash, consumer_name, scope, rate_limit_per_minute, expires_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		uptime.HashAPIToken(token), nk.Consumer, string(nk.Scope), nk.RateLimitPerMinute, nullTime(expires), nk.CreatedBy)
	if err != nil {
		return uptime.APIKey{}, "", fmt.Errorf("insert: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return uptime.APIKey{}, "", fmt.Errorf("insert id: %w", err)
	}
	key, err := keyByID(ctx, q, id, false)
	return key, token, err
}

// ListKeys returns the keys in id order: without includeRevoked, only those
// not yet revoked (a key in a rotation's grace window is listed).
func (s *Store) ListKeys(ctx context.Context, includeRevoked bool) ([]uptime.APIKey, error) {
	query := `SELECT ` + keyColumns + ` FROM jetmon_api_keys`
	var args []any
	if !includeRevoked {
		query += ` WHERE revoked_at IS NULL OR revoked_at > ?`
		args = append(args, s.clock())
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}

// Revocation is the outcome of RevokeKey.
type Revocation struct {
	Key uptime.APIKey // after the call
	// Changed is false when the key was already revoked (nothing changed).
	Changed bool
	// Previous is the revoked_at before the call: zero, or a scheduled
	// revocation that was brought forward.
	Previous time.Time
}

// RevokeKey makes key id invalid from now on. A scheduled (future)
// revocation is brought forward to now; a key already revoked is left as it
// is (Changed false). An unknown id is api.ErrNotFound.
func (s *Store) RevokeKey(ctx context.Context, id int64) (Revocation, error) {
	var rev Revocation
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		before, err := keyByID(ctx, tx, id, true)
		if err != nil {
			return err
		}
		rev.Previous = before.RevokedAt
		now := s.clock()
		res, err := tx.ExecContext(ctx, `UPDATE jetmon_api_keys SET revoked_at = ?
			WHERE id = ? AND (revoked_at IS NULL OR revoked_at > ?)`, now, id, now)
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		rev.Changed = n == 1
		rev.Key, err = keyByID(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return Revocation{}, fmt.Errorf("revoke api key %d: %w", id, err)
	}
	return rev, nil
}

// Rotation is the outcome of RotateKey.
type Rotation struct {
	Old   uptime.APIKey // with its new revoked_at
	New   uptime.APIKey
	Token string // the new key's token, shown once
}

// RotateKey replaces key id by a new key with the same consumer, scope,
// rate limit and expiry; the old key stays valid for grace (0: revoked at
// once). A key that is revoked, already scheduled for revocation or expired
// is refused (ErrKeyRevoked, ErrKeyExpired); an unknown id is
// api.ErrNotFound.
func (s *Store) RotateKey(ctx context.Context, id int64, grace time.Duration, createdBy string) (Rotation, error) {
	if grace < 0 {
		return Rotation{}, fmt.Errorf("rotate api key %d: grace %v must be >= 0", id, grace)
	}
	var rot Rotation
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		old, err := keyByID(ctx, tx, id, true)
		if err != nil {
			return err
		}
		now := s.clock()
		if err := rotatable(old, now); err != nil {
			return err
		}
		nk, err := NewKey{Consumer: old.Consumer, Scope: old.Scope, RateLimitPerMinute: old.RateLimitPerMinute,
			CreatedBy: createdBy}.validate()
		if err != nil {
			return err
		}
		if rot.New, rot.Token, err = insertKey(ctx, tx, nk, old.ExpiresAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jetmon_api_keys SET revoked_at = ? WHERE id = ?`,
			now.Add(grace), id); err != nil {
			return fmt.Errorf("schedule revocation: %w", err)
		}
		rot.Old, err = keyByID(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate api key %d: %w", id, err)
	}
	return rot, nil
}

// rotatable refuses keys whose replacement would be wrong: revoked (or in a
// grace window already) or expired.
func rotatable(k uptime.APIKey, now time.Time) error {
	switch k.ValidAt(now) {
	case uptime.KeyRevoked:
		return fmt.Errorf("%w at %s: create a new key instead", ErrKeyRevoked, stamp(k.RevokedAt))
	case uptime.KeyExpired:
		return fmt.Errorf("%w at %s: create a new key instead", ErrKeyExpired, stamp(k.ExpiresAt))
	case uptime.KeyValid:
	}
	if !k.RevokedAt.IsZero() {
		return fmt.Errorf("%w: already scheduled for revocation at %s (rotated before?); rotate its replacement, "+
			"or revoke it now", ErrKeyRevoked, stamp(k.RevokedAt))
	}
	return nil
}

// stamp formats a cutoff for messages.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
