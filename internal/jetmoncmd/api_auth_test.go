package jetmoncmd

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestAPIAuthMatrix runs every authentication outcome end to end with real
// keys: the API's clock is frozen at now so the half-open cutoffs are hit
// exactly.
func TestAPIAuthMatrix(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := w.apiServer("api-auth", "", func() time.Time { return now })
	_, reader := w.newKey("reader", uptime.ScopeRead)
	_, writer := w.newKey("writer", uptime.ScopeWrite)
	_, admin := w.newKey("admin", uptime.ScopeAdmin)
	cutoff := func(consumer, column string, at time.Time) string {
		key, token := w.newKey(consumer, uptime.ScopeWrite)
		w.exec("UPDATE jetmon_api_keys SET "+column+" = ? WHERE id = ?", at, key.ID)
		return token
	}
	revokedNow := cutoff("revoked-now", "revoked_at", now)
	revokedSoon := cutoff("grace", "revoked_at", now.Add(time.Millisecond))
	expiredNow := cutoff("expired-now", "expires_at", now)
	expiresSoon := cutoff("expires-soon", "expires_at", now.Add(time.Millisecond))
	unknown := "jm_" + strings.Repeat("A", 52)
	site := func(blog int) map[string]any {
		return map[string]any{"blog_id": blog, "monitor_url": "https://auth" + strconv.Itoa(blog) + ".example/"}
	}
	tests := []struct {
		name         string
		header       string // the whole Authorization header; "" sends none
		method, path string
		body         any
		status       int
		code         string // error code, or the consumer GET /me names
	}{
		{"missing header", "", http.MethodGet, "/me", nil, 401, "missing_token"},
		{"not a bearer header", "Basic " + reader, http.MethodGet, "/me", nil, 401, "missing_token"},
		{"empty bearer", "Bearer ", http.MethodGet, "/me", nil, 401, "missing_token"},
		{"malformed token", "Bearer not-a-jetmon-token", http.MethodGet, "/me", nil, 401, "invalid_token"},
		{"too short", "Bearer jm_abc", http.MethodGet, "/me", nil, 401, "invalid_token"},
		{"unknown token", "Bearer " + unknown, http.MethodGet, "/me", nil, 401, "invalid_token"},
		{"revoked now", "Bearer " + revokedNow, http.MethodGet, "/me", nil, 401, "token_revoked"},
		{"revoked in the future (grace window)", "Bearer " + revokedSoon, http.MethodGet, "/me", nil, 200, "grace"},
		{"expired at the boundary", "Bearer " + expiredNow, http.MethodGet, "/me", nil, 401, "token_expired"},
		{"expires a millisecond later", "Bearer " + expiresSoon, http.MethodGet, "/me", nil, 200, "expires-soon"},
		{"read key", "Bearer " + reader, http.MethodGet, "/me", nil, 200, "reader"},
		{"read key cannot write", "Bearer " + reader, http.MethodPost, "/sites", site(1), 403, "insufficient_scope"},
		{"write key writes", "Bearer " + writer, http.MethodPost, "/sites", site(2), 201, ""},
		{"admin includes write", "Bearer " + admin, http.MethodPost, "/sites", site(3), 201, ""},
		{"token with surrounding spaces", "Bearer  " + reader + " ", http.MethodGet, "/me", nil, 200, "reader"},
	}
	for _, tt := range tests {
		var header []string
		if tt.header != "" {
			header = []string{"Authorization", tt.header}
		}
		r := c.do(tt.method, tt.path, "", tt.body, header...)
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, r.status, r.body, tt.status)
			continue
		}
		switch {
		case tt.status >= 400 && r.errorCode() != tt.code:
			t.Errorf("%s: code %q (%s), want %q", tt.name, r.errorCode(), r.body, tt.code)
		case tt.status == 200:
			var me struct {
				Consumer string `json:"consumer_name"`
			}
			r.decode(t, &me)
			if me.Consumer != tt.code {
				t.Errorf("%s: /me is %s, want consumer %s", tt.name, r.body, tt.code)
			}
		}
		if r.header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", tt.name)
		}
	}
	if got := w.scalar(`SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 1`); got != "0" {
		t.Fatalf("the refused write created %s rows", got)
	}
	// One audit row per call, none carrying a token.
	waitFor(t, stepBudget, "every call audited", func() error {
		n := w.scalar(`SELECT COUNT(*) FROM jetmon_audit_log WHERE event_type = 'api_access'`)
		if n != strconv.Itoa(len(tests)) {
			return fmt.Errorf("%s audit rows, want %d", n, len(tests))
		}
		return nil
	})
	for _, tok := range []string{reader, writer, revokedNow, unknown} {
		if n := w.scalar(`SELECT COUNT(*) FROM jetmon_audit_log WHERE metadata LIKE ? OR detail LIKE ?`,
			"%"+tok[3:15]+"%", "%"+tok[3:15]+"%"); n != "0" {
			t.Fatalf("a token is in %s audit rows", n)
		}
	}
	if n := w.scalar(`SELECT COUNT(*) FROM jetmon_audit_log WHERE source = 'unknown'`); n != "8" {
		t.Errorf("%s audit rows without an accepted key, want 8 (the rejected tokens)", n)
	}
}
