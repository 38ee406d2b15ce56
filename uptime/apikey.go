package uptime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Scope is an API key's permission level; a higher scope includes the lower
// ones (read < write < admin).
type Scope string

// Scopes.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// rank orders scopes; 0 is unknown.
func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	default:
		return 0
	}
}

// Allows reports whether a key of scope s may call a route needing need.
func (s Scope) Allows(need Scope) bool { return s.rank() > 0 && s.rank() >= need.rank() }

// DefaultRateLimit is the requests per minute of a key of scope s created
// without a limit (Jetmon v2's defaults): write 30, read and admin 60.
func (s Scope) DefaultRateLimit() int {
	if s == ScopeWrite {
		return 30
	}
	return 60
}

// ParseScope accepts read, write and admin.
func ParseScope(v string) (Scope, error) {
	if s := Scope(v); s.rank() > 0 {
		return s, nil
	}
	return "", fmt.Errorf("scope %q: must be read, write or admin", v)
}

// APITokenPrefix starts every API token.
const APITokenPrefix = "jm_"

// HashAPIToken is what jetmon_api_keys.key_hash stores for a token and what
// the API looks a bearer token up by: the lower-case hex SHA-256 of the
// whole token, prefix included.
func HashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// APIKey is one jetmon_api_keys row. The raw token ("jm_...") is never
// stored: Hash is HashAPIToken of it.
type APIKey struct {
	ID                 int64
	Hash               string
	Consumer           string
	Scope              Scope
	RateLimitPerMinute int
	// ExpiresAt and RevokedAt are half-open cutoffs: the key is valid
	// strictly before them and rejected at or after. A future RevokedAt is a
	// rotation's grace window. Zero: no cutoff.
	ExpiresAt  time.Time
	RevokedAt  time.Time
	LastUsedAt time.Time
	CreatedBy  string
	CreatedAt  time.Time
}

// KeyValidity is why a key is or is not usable at a moment.
type KeyValidity string

// Key validities.
const (
	KeyValid   KeyValidity = "valid"
	KeyRevoked KeyValidity = "revoked"
	KeyExpired KeyValidity = "expired"
)

// ValidAt applies the half-open cutoffs: revoked wins over expired.
func (k APIKey) ValidAt(now time.Time) KeyValidity {
	switch {
	case !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt):
		return KeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return KeyExpired
	default:
		return KeyValid
	}
}
