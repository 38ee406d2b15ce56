package uptime_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestAPIKeyValidAt pins the half-open cutoffs: a key is valid strictly
// before revoked_at and expires_at, rejected at and after; a future
// revoked_at is a grace window; revoked wins over expired.
func TestAPIKeyValidAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	tests := map[string]struct {
		revoked, expires time.Time
		want             uptime.KeyValidity
	}{
		"no cutoffs":                    {want: uptime.KeyValid},
		"revoked a millisecond ago":     {revoked: now.Add(-ms), want: uptime.KeyRevoked},
		"revoked at now":                {revoked: now, want: uptime.KeyRevoked},
		"grace window ends in 1 ms":     {revoked: now.Add(ms), want: uptime.KeyValid},
		"expired at now":                {expires: now, want: uptime.KeyExpired},
		"expires in 1 ms":               {expires: now.Add(ms), want: uptime.KeyValid},
		"revoked and expired":           {revoked: now, expires: now, want: uptime.KeyRevoked},
		"grace window but expired":      {revoked: now.Add(time.Hour), expires: now.Add(-ms), want: uptime.KeyExpired},
		"both cutoffs in the future":    {revoked: now.Add(time.Hour), expires: now.Add(time.Hour), want: uptime.KeyValid},
		"expired long ago, revoked now": {revoked: now, expires: now.Add(-time.Hour), want: uptime.KeyRevoked},
	}
	for name, tt := range tests {
		k := uptime.APIKey{RevokedAt: tt.revoked, ExpiresAt: tt.expires}
		if got := k.ValidAt(now); got != tt.want {
			t.Errorf("%s: ValidAt = %s, want %s", name, got, tt.want)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	read, write, admin := uptime.ScopeRead, uptime.ScopeWrite, uptime.ScopeAdmin
	tests := []struct {
		key, need uptime.Scope
		want      bool
	}{
		{read, read, true}, {read, write, false}, {read, admin, false},
		{write, read, true}, {write, write, true}, {write, admin, false},
		{admin, read, true}, {admin, write, true}, {admin, admin, true},
		{"root", read, false}, {"", read, false},
	}
	for _, tt := range tests {
		if got := tt.key.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.key, tt.need, got, tt.want)
		}
	}
	for scope, want := range map[uptime.Scope]int{read: 60, write: 30, admin: 60} {
		if got := scope.DefaultRateLimit(); got != want {
			t.Errorf("%s default rate limit = %d, want %d", scope, got, want)
		}
	}
	if _, err := uptime.ParseScope("Admin"); err == nil {
		t.Error("ParseScope is case-sensitive")
	}
}

func TestHashAPIToken(t *testing.T) {
	t.Parallel()
	const token = uptime.APITokenPrefix + "ABC"
	sum := sha256.Sum256([]byte("jm_ABC"))
	if got := uptime.HashAPIToken(token); got != hex.EncodeToString(sum[:]) {
		t.Errorf("HashAPIToken(%q) = %s: want the hex SHA-256 of the whole token, prefix included", token, got)
	}
}
