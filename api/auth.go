package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Token shape: uptime.APITokenPrefix ("jm_") and URL-safe characters (the
// keys CLI mints 52 characters of unpadded base32); anything else is not a
// token and costs no store lookup.
const (
	tokenMinLen   = 13
	tokenMaxLen   = 128
	touchInterval = time.Minute
	touchTimeout  = 2 * time.Second
)

// authenticate resolves the bearer token to a valid key with at least
// scope need.
func (s *Server) authenticate(need uptime.Scope) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, err := s.resolveKey(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			c := callOf(r)
			c.key, c.authed = key, true
			if !key.Scope.Allows(need) {
				s.fail(w, r, errf(codeInsufficientScope, "this route needs scope %q; the key has %q", need, key.Scope))
				return
			}
			s.touches.touch(r.Context(), s, key.ID)
			next.ServeHTTP(w, r)
		})
	}
}

// resolveKey applies the token rules and the key's half-open cutoffs.
func (s *Server) resolveKey(r *http.Request) (uptime.APIKey, error) {
	header := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return uptime.APIKey{}, errf(codeMissingToken, "send Authorization: Bearer <jm_ token>")
	}
	token := strings.TrimSpace(raw)
	if !wellFormedToken(token) {
		return uptime.APIKey{}, errf(codeInvalidToken, "the token is not a jm_ API key")
	}
	key, err := s.opts.Keys.KeyByHash(r.Context(), uptime.HashAPIToken(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return uptime.APIKey{}, errf(codeInvalidToken, "unknown token")
	case err != nil:
		return uptime.APIKey{}, &apiError{code: codeAuthError, msg: "the key store failed", cause: err}
	}
	switch key.ValidAt(s.now()) {
	case uptime.KeyRevoked:
		return uptime.APIKey{}, errf(codeTokenRevoked, "the key was revoked at %s", utc(key.RevokedAt).Format(time.RFC3339))
	case uptime.KeyExpired:
		return uptime.APIKey{}, errf(codeTokenExpired, "the key expired at %s", utc(key.ExpiresAt).Format(time.RFC3339))
	case uptime.KeyValid:
	}
	return key, nil
}

func wellFormedToken(t string) bool {
	body, ok := strings.CutPrefix(t, uptime.APITokenPrefix)
	if !ok || len(t) < tokenMinLen || len(t) > tokenMaxLen {
		return false
	}
	for _, r := range body {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// toucher writes last_used_at at most once per key per touchInterval, best
// effort: a failure is logged and never fails the request.
type toucher struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

func (t *toucher) touch(ctx context.Context, s *Server, keyID int64) {
	now := s.now()
	t.mu.Lock()
	due := now.Sub(t.last[keyID]) >= touchInterval
	if due {
		t.last[keyID] = now
		for id, at := range t.last { // small: one entry per key used recently
			if now.Sub(at) > idleBucket {
				delete(t.last, id)
			}
		}
	}
	t.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), touchTimeout)
	defer cancel()
	if err := s.opts.Keys.TouchKey(ctx, keyID, now); err != nil {
		s.log.Warn("api key last_used_at not written", "component", "api", "key_id", keyID, "err", err)
	}
}
