package bus

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Backoff between attempts to (re)create a watch.
const (
	watchBackoffMin = 50 * time.Millisecond
	watchBackoffMax = 5 * time.Second
)

// watchHandler receives the entries of one supervised watch. Its methods are
// called from the watch's goroutine only; an error (ctx ended while
// handing a value on) ends the watch.
type watchHandler interface {
	// begin starts a new watch. full means the entries up to the next
	// synced are the complete current state of the watched keys; otherwise
	// they continue after the last revision seen.
	begin(full bool)
	// entry handles one put, delete or purge (an expiry's limit marker
	// arrives as a purge).
	entry(ctx context.Context, e jetstream.KeyValueEntry) error
	// synced marks the end of the values the watch started with.
	synced(ctx context.Context) error
}

// kvWatch is a supervised watch of some keys of a KV bucket (reference §4.5):
// the updates channel of a nats.go watcher closes for good when its
// subscription does (nats.go #1777), so the watch is created again with
// exponential backoff, resuming after the last revision seen. After a gap
// longer than relistAfter it lists the keys in full instead, because the
// limit markers of keys that expired meanwhile may be gone; relistAfter 0
// always lists in full.
type kvWatch struct {
	js          jetstream.JetStream
	bucket      string
	filters     []string // nil: every key; never handed to nats.go itself (it mutates the slice)
	relistAfter time.Duration
	logger      *slog.Logger
	// open starts one watch; nil means kv.WatchFiltered. Tests use it to
	// interrupt watches.
	open func(ctx context.Context, kv jetstream.KeyValue, filters []string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error)
}

// run watches until ctx ends.
func (w kvWatch) run(ctx context.Context, h watchHandler) {
	var (
		kv     jetstream.KeyValue
		last   uint64
		lostAt time.Time
		bo     backoff
	)
	for ctx.Err() == nil {
		if kv == nil {
			var err error
			if kv, err = w.js.KeyValue(ctx, w.bucket); err != nil {
				w.logger.Warn("kv watch: open bucket", "bucket", w.bucket, "err", err)
				sleep(ctx, bo.next())
				continue
			}
		}
		full := last == 0 || time.Since(lostAt) > w.relistAfter
		var opts []jetstream.WatchOpt
		if !full {
			opts = append(opts, jetstream.ResumeFromRevision(last+1))
		}
		kw, err := w.start(ctx, kv, opts)
		if err != nil {
			w.logger.Warn("kv watch: start", "bucket", w.bucket, "err", err)
			sleep(ctx, bo.next())
			continue
		}
		h.begin(full)
		if w.consume(ctx, kw, h, &last) {
			bo.reset()
		}
		stopWatch(kw)
		lostAt = time.Now()
		if ctx.Err() == nil {
			w.logger.Warn("kv watch closed; watching again", "bucket", w.bucket, "revision", last)
			sleep(ctx, bo.next())
		}
	}
}

// start opens one watch of w's keys.
func (w kvWatch) start(ctx context.Context, kv jetstream.KeyValue, opts []jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	if w.open != nil {
		return w.open(ctx, kv, slices.Clone(w.filters), opts...)
	}
	return kv.WatchFiltered(ctx, slices.Clone(w.filters), opts...) //nolint:wrapcheck // logged by run
}

// consume hands kw's entries to h until the channel closes or ctx ends, and
// reports whether the watch got through its initial values.
func (w kvWatch) consume(ctx context.Context, kw jetstream.KeyWatcher, h watchHandler, last *uint64) (synced bool) {
	for {
		select {
		case <-ctx.Done():
			return synced
		case e, ok := <-kw.Updates():
			switch {
			case !ok:
				return synced
			case e == nil:
				if h.synced(ctx) != nil {
					return synced
				}
				synced = true
			default:
				*last = max(*last, e.Revision())
				if h.entry(ctx, e) != nil {
					return synced
				}
			}
		}
	}
}

// stopWatch stops kw and drains its channel until nats.go closes it: its
// delivery callback blocks on a full channel while holding a lock, so a
// watcher stopped without draining can leak that goroutine.
func stopWatch(kw jetstream.KeyWatcher) {
	_ = kw.Stop() // fails only when the subscription is already closed
	for range kw.Updates() {
	}
}

// backoff is exponential with jitter between watchBackoffMin and
// watchBackoffMax.
type backoff struct{ cur time.Duration }

func (b *backoff) next() time.Duration {
	b.cur = min(max(2*b.cur, watchBackoffMin), watchBackoffMax)
	return b.cur/2 + rand.N(b.cur/2+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// latest is a channel that keeps only the newest value: a slow reader
// skips stale states but always gets the last one. One goroutine sends.
type latest[T any] chan T

func newLatest[T any]() latest[T] { return make(latest[T], 1) }

// put replaces an unread value with v.
func (l latest[T]) put(v T) {
	select {
	case <-l:
	default:
	}
	l <- v
}

// isDeletion reports whether e removes its key (a delete, a purge, or an
// expiry's limit marker).
func isDeletion(e jetstream.KeyValueEntry) bool {
	return e.Operation() == jetstream.KeyValueDelete || e.Operation() == jetstream.KeyValuePurge
}
