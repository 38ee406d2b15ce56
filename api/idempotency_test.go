package api

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func idem(key string) []string { return []string{"Idempotency-Key", key} }

func TestIdempotentReplayAndConflict(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := `{"blog_id":7,"monitor_url":"https://seven.example"}`
	create := req{method: http.MethodPost, path: "/api/v1/sites", token: tokWrite, body: body, header: idem("create-7")}
	first := must(t, h.do(create), 201)
	replayed := must(t, h.do(create), 201)
	if !bytes.Equal(first.body, replayed.body) || replayed.header.Get("Idempotency-Replayed") != "true" ||
		first.header.Get("Idempotency-Replayed") != "" {
		t.Errorf("replay: %q / %q", first.body, replayed.body)
	}
	if replayed.header.Get("X-Request-ID") == first.header.Get("X-Request-ID") || replayed.header.Get("X-RateLimit-Limit") == "" {
		t.Error("a replay carries its own request id and rate-limit headers")
	}
	if n := len(h.db.sites); n != 1 {
		t.Errorf("sites = %d: the replay ran the handler again", n)
	}
	conflict := create
	conflict.body = `{"blog_id":8,"monitor_url":"https://eight.example"}`
	if r := must(t, h.do(conflict), 409); r.code() != "idempotency_conflict" {
		t.Errorf("different body: %s", r.body)
	}
	// The same key on another path is another request (v2 replayed it).
	h.seedSite(1)
	h.seedSite(2)
	pause1 := req{method: http.MethodPost, path: "/api/v1/sites/1/pause", token: tokWrite, header: idem("pause")}
	pause2 := pause1
	pause2.path = "/api/v1/sites/2/pause"
	must(t, h.do(pause1), 200)
	if r := must(t, h.do(pause2), 200); r.header.Get("Idempotency-Replayed") != "" {
		t.Error("the key replayed a response of another path")
	}
	if s, _ := h.db.GetSite(t.Context(), 2, ""); s.Active {
		t.Error("site 2 was not paused")
	}
	// Another key id has its own scope.
	other := create
	other.token = tokAdmin
	if r := h.do(other); r.status != 409 || r.code() != "site_exists" {
		t.Errorf("another key with the same Idempotency-Key: %d %s", r.status, r.body)
	}
	// A different query is a different request.
	w := must(t, h.do(req{method: http.MethodPost, path: "/api/v1/webhooks", token: tokWrite, body: `{"url":"https://hook.example"}`}), 201)
	var hook WebhookWithSecret
	w.json(t, &hook)
	rot := req{method: http.MethodPost, path: "/api/v1/webhooks/" + itoa(hook.ID) + "/rotate-secret", token: tokWrite, header: idem("rot")}
	must(t, h.do(rot), 200)
	rot.path += "?grace=1h"
	if r := must(t, h.do(rot), 409); r.code() != "idempotency_conflict" {
		t.Errorf("same key, other query: %s", r.body)
	}
}

func TestIdempotencyKeyValidationAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	resume := req{method: http.MethodPost, path: "/api/v1/sites/1/resume", token: tokWrite}
	long := resume
	long.header = idem(strings.Repeat("k", 256))
	if r := must(t, h.do(long), 400); r.code() != "invalid_idempotency_key" {
		t.Errorf("long key: %s", r.body)
	}
	resume.header = idem("r1")
	must(t, h.do(resume), 200)
	h.clock.Advance(24*time.Hour - time.Millisecond)
	if r := h.do(resume); r.header.Get("Idempotency-Replayed") != "true" {
		t.Error("no replay a millisecond before 24 h")
	}
	h.clock.Advance(time.Millisecond)
	if r := h.do(resume); r.header.Get("Idempotency-Replayed") != "" {
		t.Error("replayed at 24 h")
	}
}

// TestIdempotencyInProgress: a second request with the key while the first
// runs is refused, not run twice.
func TestIdempotencyInProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	h.coord.block, h.coord.entered = make(chan struct{}), make(chan struct{})
	pause := req{method: http.MethodPost, path: "/api/v1/sites/1/pause", token: tokWrite, header: idem("slow")}
	done := make(chan resp, 1)
	go func() { done <- h.do(pause) }()
	<-h.coord.entered
	second := h.do(pause)
	close(h.coord.block)
	first := <-done
	if first.status != 200 || second.status != 409 || second.code() != "idempotency_in_progress" {
		t.Errorf("first %d, second %d %s", first.status, second.status, second.body)
	}
	if r := h.do(pause); r.header.Get("Idempotency-Replayed") != "true" {
		t.Error("after the first finished its response replays")
	}
}

// TestIdempotencySlowRequestIsCompleted: the response of a request that ran
// long is stored with a store timeout of its own, not what is left of one
// started with the request.
func TestIdempotencySlowRequestIsCompleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	const slow = 400 * time.Millisecond // the request's own run time, not a wait for anything
	h.coord.block, h.coord.entered = make(chan struct{}), make(chan struct{})
	time.AfterFunc(slow, func() { close(h.coord.block) })
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/1/pause", token: tokWrite, header: idem("slow")}), 200)
	h.db.mu.Lock()
	left := h.db.storeLeft
	h.db.mu.Unlock()
	if left < storeTimeout-slow/2 {
		t.Errorf("Complete had %v left of its %v timeout after a %v request", left, storeTimeout, slow)
	}
}

// TestIdempotency5xxIsReleased: a failed request may be retried and runs
// again.
func TestIdempotency5xxIsReleased(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0})
	h.coord.unavailable = true
	pause := req{method: http.MethodPost, path: "/api/v1/sites/1/pause", token: tokWrite, header: idem("retry-me")}
	must(t, h.do(pause), 503)
	h.coord.unavailable = false
	if r := must(t, h.do(pause), 200); r.header.Get("Idempotency-Replayed") != "" {
		t.Error("a 5xx was stored and replayed")
	}
	if len(h.db.idem) != 1 {
		t.Errorf("records = %d", len(h.db.idem))
	}
	// A response that could not be stored is released too: the retry runs
	// again rather than waiting on an in-flight claim.
	resume := req{method: http.MethodPost, path: "/api/v1/sites/1/resume", token: tokWrite, header: idem("unstored")}
	h.db.failOn("Complete", errBoom)
	must(t, h.do(resume), 200)
	h.db.failOn("Complete", nil)
	if r := must(t, h.do(resume), 200); r.header.Get("Idempotency-Replayed") != "" {
		t.Error("an unstored response was replayed")
	}
}
