package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// Idempotency of POST routes: a request with an Idempotency-Key is claimed
// in the shared store before it runs, scoped by (key id, method, path), so a
// retry replays the first response instead of acting twice, and a
// concurrent duplicate is refused while the first runs.
const (
	idempotencyTTL    = 24 * time.Hour
	maxIdempotencyKey = 255
	headerIdemKey     = "Idempotency-Key"
	headerReplayed    = "Idempotency-Replayed"
	storeTimeout      = 5 * time.Second
)

// replayedHeaders are the response headers a record keeps; X-Request-ID and
// the rate-limit headers are the replaying request's own.
func replayedHeaders() []string { return []string{"Content-Type"} }

func (s *Server) idempotency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(headerIdemKey)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxIdempotencyKey || !printable(key) {
			s.fail(w, r, fieldErr(codeInvalidIdemKey, headerIdemKey, "at most %d printable ASCII characters", maxIdempotencyKey))
			return
		}
		body, err := s.body(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c := callOf(r)
		rec := IdempotencyRecord{
			KeyID: c.key.ID, Method: r.Method, Path: r.URL.Path, Key: key,
			RequestHash: requestHash(c.tenant, r.URL.RawQuery, body), ExpiresAt: s.now().Add(idempotencyTTL),
		}
		existing, claimed, err := s.opts.Idempotency.Claim(r.Context(), rec)
		switch {
		case err != nil:
			s.fail(w, r, storeErr(err, ""))
		case !claimed && existing.RequestHash != rec.RequestHash:
			s.fail(w, r, fieldErr(codeIdemConflict, headerIdemKey, "this key was used for a different request to %s %s", r.Method, r.URL.Path))
		case !claimed && existing.Status == 0:
			s.fail(w, r, fieldErr(codeIdemInProgress, headerIdemKey, "the first request with this key is still running"))
		case !claimed:
			c.note = "idempotent_replay"
			replay(w, existing)
		default:
			s.runClaimed(w, r, next, rec)
		}
	})
}

// runClaimed runs the request and completes its record, or releases it on
// a 5xx (or a panic) so the client may retry. The store calls get their own
// timeout from when they start: the request may have run long (a
// trigger-now waits for a check) and its client may be gone.
func (s *Server) runClaimed(w http.ResponseWriter, r *http.Request, next http.Handler, rec IdempotencyRecord) {
	out := &recorder{ResponseWriter: w, tee: &bytes.Buffer{}}
	reqCtx := r.Context()
	completed := false
	defer func() {
		if !completed {
			s.release(reqCtx, callOf(r).requestID, rec)
		}
	}()
	next.ServeHTTP(out, r)
	if out.code() >= 500 {
		return
	}
	rec.Status, rec.Body, rec.Header = out.code(), out.tee.Bytes(), map[string][]string{}
	for _, name := range replayedHeaders() {
		if v := w.Header().Values(name); len(v) > 0 {
			rec.Header[name] = v
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), storeTimeout)
	defer cancel()
	if err := s.opts.Idempotency.Complete(ctx, rec); err != nil {
		s.log.Warn("api idempotency record not completed", "component", "api",
			"request_id", callOf(r).requestID, "err", err)
		return // released by the deferred call: a retry runs again rather than waiting 24 h
	}
	completed = true
}

// release deletes a claim whose request failed, so the client may retry.
func (s *Server) release(ctx context.Context, requestID string, rec IdempotencyRecord) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := s.opts.Idempotency.Release(ctx, rec); err != nil {
		s.log.Warn("api idempotency record not released", "component", "api", "request_id", requestID, "err", err)
	}
}

// replay writes a stored response.
func replay(w http.ResponseWriter, rec IdempotencyRecord) {
	for _, name := range replayedHeaders() {
		for _, v := range rec.Header[name] {
			w.Header().Add(name, v)
		}
	}
	w.Header().Set(headerReplayed, "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// requestHash identifies a request within its (key, method, path) scope:
// the tenant, the query and the raw body, so that a different query
// (rotate-secret?grace=) or another gateway tenant is a conflict, never a
// replay.
func requestHash(t Tenant, rawQuery string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(rawQuery))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
