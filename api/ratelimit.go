package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Rate limiting: one token bucket per key id in this process, capacity
// rate_limit_per_minute, refilled continuously over a minute.
const (
	idleBucket = 10 * time.Minute // buckets unused this long are dropped
	sweepEvery = time.Minute
)

type bucket struct {
	lim      *rate.Limiter
	perMin   int
	lastSeen time.Time
}

// limiter holds the buckets.
type limiter struct {
	mu        sync.Mutex
	buckets   map[int64]*bucket
	lastSweep time.Time
}

// quota is a bucket's state after a request: what the headers say.
type quota struct {
	allowed    bool
	limit      int
	remaining  int
	reset      time.Time     // when the bucket is full again
	retryAfter time.Duration // until the next token, when !allowed
}

// perMinute is the key's limit, or its scope's default.
func perMinute(k uptime.APIKey) int {
	if k.RateLimitPerMinute > 0 {
		return k.RateLimitPerMinute
	}
	return k.Scope.DefaultRateLimit()
}

// take spends one token of k's bucket at now.
func (l *limiter) take(k uptime.APIKey, now time.Time) quota {
	n := perMinute(k)
	every := rate.Limit(float64(n) / 60)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[k.ID]
	switch {
	case !ok:
		b = &bucket{lim: rate.NewLimiter(every, n), perMin: n}
		b.lim.SetLimitAt(now, every) // start the bucket's clock at now
		l.buckets[k.ID] = b
	case b.perMin != n: // the key's limit changed: resize, never raise tokens
		b.lim.SetLimitAt(now, every)
		b.lim.SetBurstAt(now, n)
		b.perMin = n
	}
	b.lastSeen = now
	q := quota{allowed: b.lim.AllowN(now, 1), limit: n}
	tokens := b.lim.TokensAt(now)
	q.remaining = max(0, int(math.Floor(tokens)))
	q.reset = now.Add(time.Duration((float64(n) - tokens) / float64(every) * float64(time.Second)))
	if !q.allowed {
		q.retryAfter = time.Duration((1 - tokens) / float64(every) * float64(time.Second))
	}
	return q
}

// sweep drops idle buckets, at most once per sweepEvery.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for id, b := range l.buckets {
		if now.Sub(b.lastSeen) > idleBucket {
			delete(l.buckets, id)
		}
	}
}

// rateLimit spends a token of the caller's bucket, sets X-RateLimit-* and
// answers 429 with Retry-After when the bucket is empty.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		q := s.limiter.take(callOf(r).key, now)
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(q.remaining))
		reset := q.reset.Add(time.Second - 1).Unix() // rounded up
		h.Set("X-RateLimit-Reset", strconv.FormatInt(max(reset, now.Unix()+1), 10))
		if !q.allowed {
			secs := max(1, int(math.Ceil(q.retryAfter.Seconds())))
			h.Set("Retry-After", strconv.Itoa(secs))
			s.fail(w, r, errf(codeRateLimited, "rate limit of %d requests per minute reached; retry in %d s", q.limit, secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}
