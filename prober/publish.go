package prober

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Publish retry backoff: doubling from the first delay up to the cap, with
// jitter so that every worker does not hammer a recovering server at once.
const (
	publishBackoffFirst = 100 * time.Millisecond
	publishBackoffMax   = 5 * time.Second
)

// resultQueue is the bounded buffer between checks and publisher workers.
// When it is full the oldest result makes room for the newest: while NATS
// is unreachable, the freshest view of every site is worth the most.
type resultQueue struct {
	ch      chan *uptime.ProbeResult
	dropped func(n int) // counts results pushed out
}

func newResultQueue(size int, dropped func(n int)) *resultQueue {
	return &resultQueue{ch: make(chan *uptime.ProbeResult, size), dropped: dropped}
}

// push enqueues r, dropping the oldest results while the queue is full. It
// never blocks. It must not be called after close.
func (q *resultQueue) push(r *uptime.ProbeResult) {
	for {
		select {
		case q.ch <- r:
			return
		default:
		}
		select {
		case <-q.ch:
			q.dropped(1)
		default: // a worker took one meanwhile: try again
		}
	}
}

// len is the number of results waiting.
func (q *resultQueue) len() int { return len(q.ch) }

// close ends the workers' range once the queue is empty.
func (q *resultQueue) close() { close(q.ch) }

// publisher drains a resultQueue into a Publisher.
type publisher struct {
	pub     Publisher
	queue   *resultQueue
	log     *slog.Logger
	metrics *metrics
	dropped func(n int)
}

// work publishes queued results until the queue is closed and empty. Once
// ctx ends it stops publishing and counts everything left as dropped.
func (w *publisher) work(ctx context.Context) {
	for r := range w.queue.ch {
		if ctx.Err() != nil {
			w.dropped(1)
			continue
		}
		w.publish(ctx, r)
	}
}

// publish retries one result with exponential backoff until it is stored or
// ctx ends (then the result counts as dropped).
func (w *publisher) publish(ctx context.Context, r *uptime.ProbeResult) {
	delay := publishBackoffFirst
	for attempt := 1; ; attempt++ {
		err := w.pub.Publish(ctx, *r)
		if err == nil {
			w.metrics.published.Inc()
			return
		}
		if ctx.Err() != nil {
			w.dropped(1)
			return
		}
		w.metrics.publishErrors.Inc()
		if attempt == 1 || attempt%10 == 0 {
			w.log.Warn("publish result", "site_id", r.BlogID, "bucket", r.Bucket, "attempt", attempt, "err", err)
		}
		if !sleepCtx(ctx, jitter(delay)) {
			w.dropped(1)
			return
		}
		delay = min(2*delay, publishBackoffMax)
	}
}

// jitter spreads d over [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}

// sleepCtx waits d and reports whether ctx was still alive when it ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
