package api

import (
	"strconv"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	const tok = "jm_LIMITEDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	h := newHarness(t)
	h.addKey(tok, uptime.APIKey{ID: 30, Consumer: "limited", Scope: uptime.ScopeRead, RateLimitPerMinute: 3})
	for i := range 3 {
		r := must(t, h.get("/api/v1/me", tok), 200)
		if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Errorf("request %d: limit %q remaining %q", i, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
		reset, _ := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64)
		if reset < t0.Unix()+1 || reset > t0.Add(time.Minute).Unix()+1 {
			t.Errorf("request %d: reset %d is not within the next minute", i, reset)
		}
	}
	r := must(t, h.get("/api/v1/me", tok), 429)
	if r.code() != "rate_limited" || r.header.Get("Retry-After") != "20" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429: code %q, Retry-After %q (one token per 20 s), remaining %q", r.code(), r.header.Get("Retry-After"),
			r.header.Get("X-RateLimit-Remaining"))
	}
	// Other keys have their own buckets.
	must(t, h.get("/api/v1/me", tokRead), 200)
	h.clock.Advance(20 * time.Second)
	must(t, h.get("/api/v1/me", tok), 200)
	must(t, h.get("/api/v1/me", tok), 429)
	// Rejected before the bucket: no rate-limit headers on 401.
	if r := must(t, h.get("/api/v1/me", ""), 401); r.header.Get("X-RateLimit-Limit") != "" {
		t.Error("a 401 carries rate-limit headers")
	}
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	limited := 0
	for _, row := range h.db.audit {
		if row.Status == 429 && row.Note == "rate_limited" && row.Consumer == "limited" {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("audited 429s = %d, want 2", limited)
	}
}

func TestRateLimitBucketsAreDroppedWhenIdle(t *testing.T) {
	t.Parallel()
	l := &limiter{buckets: map[int64]*bucket{}}
	k := uptime.APIKey{ID: 1, Scope: uptime.ScopeRead, RateLimitPerMinute: 1}
	if !l.take(k, t0).allowed || l.take(k, t0).allowed {
		t.Fatal("a 1/min bucket allows one request")
	}
	l.take(uptime.APIKey{ID: 2, Scope: uptime.ScopeRead}, t0.Add(11*time.Minute))
	if _, ok := l.buckets[1]; ok {
		t.Error("a bucket idle for 11 min was kept")
	}
	// A dropped bucket starts again, full, at the key's current limit.
	k.RateLimitPerMinute = 100
	q := l.take(k, t0.Add(11*time.Minute))
	if !q.allowed || q.limit != 100 {
		t.Errorf("resized bucket: %+v", q)
	}
	if got := perMinute(uptime.APIKey{Scope: uptime.ScopeWrite}); got != 30 {
		t.Errorf("write default = %d", got)
	}
}
