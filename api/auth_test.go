package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	const (
		tokRevoked  = "jm_REVOKEDNOWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		tokGrace    = "jm_GRACEWINDOWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		tokExpired  = "jm_EXPIREDATBOUNDARYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		tokExpiring = "jm_EXPIRESINAMSAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		tokUnknown  = "jm_UNKNOWNAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	)
	h := newHarness(t)
	h.addKey(tokRevoked, uptime.APIKey{ID: 10, Consumer: "rotated", Scope: uptime.ScopeWrite, RevokedAt: t0})
	h.addKey(tokGrace, uptime.APIKey{ID: 11, Consumer: "rotating", Scope: uptime.ScopeWrite, RevokedAt: t0.Add(5 * time.Minute)})
	h.addKey(tokExpired, uptime.APIKey{ID: 12, Consumer: "old", Scope: uptime.ScopeRead, ExpiresAt: t0})
	h.addKey(tokExpiring, uptime.APIKey{ID: 13, Consumer: "soon", Scope: uptime.ScopeRead, ExpiresAt: t0.Add(time.Millisecond)})
	h.seedSite(1)
	tests := map[string]struct {
		method, path string
		authz        string // the whole Authorization header
		status       int
		code         string
	}{
		"missing":                  {http.MethodGet, "/api/v1/me", "", 401, "missing_token"},
		"malformed scheme":         {http.MethodGet, "/api/v1/me", "Basic " + tokRead, 401, "missing_token"},
		"lower-case bearer":        {http.MethodGet, "/api/v1/me", "bearer " + tokRead, 401, "missing_token"},
		"empty bearer":             {http.MethodGet, "/api/v1/me", "Bearer   ", 401, "missing_token"},
		"wrong prefix":             {http.MethodGet, "/api/v1/me", "Bearer xx_" + tokRead[3:], 401, "invalid_token"},
		"too short":                {http.MethodGet, "/api/v1/me", "Bearer jm_ABC", 401, "invalid_token"},
		"bad characters":           {http.MethodGet, "/api/v1/me", "Bearer jm_AAAAAAAAAAAAAA$AAAA", 401, "invalid_token"},
		"unknown":                  {http.MethodGet, "/api/v1/me", "Bearer " + tokUnknown, 401, "invalid_token"},
		"revoked now (at cutoff)":  {http.MethodGet, "/api/v1/me", "Bearer " + tokRevoked, 401, "token_revoked"},
		"revoked in the future":    {http.MethodGet, "/api/v1/me", "Bearer " + tokGrace, 200, ""},
		"expired at the boundary":  {http.MethodGet, "/api/v1/me", "Bearer " + tokExpired, 401, "token_expired"},
		"valid just before expiry": {http.MethodGet, "/api/v1/me", "Bearer " + tokExpiring, 200, ""},
		"read key reads":           {http.MethodGet, "/api/v1/sites", "Bearer " + tokRead, 200, ""},
		"read key cannot write":    {http.MethodPost, "/api/v1/sites/1/resume", "Bearer " + tokRead, 403, "insufficient_scope"},
		"write key writes":         {http.MethodPost, "/api/v1/sites/1/resume", "Bearer " + tokWrite, 200, ""},
		"admin key writes":         {http.MethodPost, "/api/v1/sites/1/resume", "Bearer " + tokAdmin, 200, ""},
		"health needs no token":    {http.MethodGet, "/api/v1/health", "", 200, ""},
		"openapi needs a token":    {http.MethodGet, "/api/v1/openapi.json", "", 401, "missing_token"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var hdr []string
			if tc.authz != "" {
				hdr = []string{"Authorization", tc.authz}
			}
			r := h.do(req{method: tc.method, path: tc.path, header: hdr})
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%s %s = %d %q, want %d %q: %s", tc.method, tc.path, r.status, r.code(), tc.status, tc.code, r.body)
			}
			if tc.code == "insufficient_scope" && !strings.Contains(string(r.body), `needs scope \"write\"; the key has \"read\"`) {
				t.Errorf("the message must name both scopes: %s", r.body)
			}
		})
	}
	// Every call to an authenticated route is audited, rejections included,
	// and no row carries the token.
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	notes := map[string]bool{}
	for _, row := range h.db.audit {
		notes[row.Note] = true
		if strings.Contains(row.Path+row.Note+row.Consumer, "jm_") {
			t.Errorf("audit row carries a token: %+v", row)
		}
		if row.Path == "/api/v1/sites/1/resume" && row.Route != "/api/v1/sites/{site_id}/resume" {
			t.Errorf("audit row route = %q, want the route pattern", row.Route)
		}
	}
	for _, want := range []string{"missing_token", "invalid_token", "token_revoked", "token_expired", "insufficient_scope"} {
		if !notes[want] {
			t.Errorf("no audit row with note %q", want)
		}
	}
	if len(h.db.audit) != len(tests)-1 { // health is not audited
		t.Errorf("audit rows = %d, want %d", len(h.db.audit), len(tests)-1)
	}
}

func TestGraceWindowEndsAtRevokedAt(t *testing.T) {
	t.Parallel()
	const tok = "jm_GRACEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	h := newHarness(t)
	h.addKey(tok, uptime.APIKey{ID: 20, Consumer: "rotating", Scope: uptime.ScopeRead, RevokedAt: t0.Add(time.Minute)})
	var me MeResponse
	must(t, h.get("/api/v1/me", tok), 200).json(t, &me)
	if me.RevokesAt == nil || !me.RevokesAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("/me revokes_at = %v", me.RevokesAt)
	}
	h.clock.Advance(time.Minute - time.Millisecond)
	must(t, h.get("/api/v1/me", tok), 200)
	h.clock.Advance(time.Millisecond)
	if r := must(t, h.get("/api/v1/me", tok), 401); r.code() != "token_revoked" {
		t.Errorf("at revoked_at: %s", r.body)
	}
}

func TestLastUsedIsThrottledAndBestEffort(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for range 3 {
		must(t, h.get("/api/v1/me", tokRead), 200)
	}
	h.clock.Advance(time.Minute)
	must(t, h.get("/api/v1/me", tokRead), 200)
	h.db.failOn("TouchKey", errBoom)
	h.clock.Advance(time.Minute)
	must(t, h.get("/api/v1/me", tokRead), 200) // a failed touch never fails auth
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	if n := h.db.touched[1]; n != 2 {
		t.Errorf("TouchKey succeeded %d times, want 2 (once per key per minute)", n)
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var me MeResponse
	must(t, h.get("/api/v1/me", tokWrite), 200).json(t, &me)
	want := MeResponse{KeyID: 2, ConsumerName: "writer", Scope: uptime.ScopeWrite, RateLimitPerMinute: 1000,
		CreatedAt: t0.Add(-24 * time.Hour)}
	if me != want {
		t.Errorf("me = %+v, want %+v", me, want)
	}
}
