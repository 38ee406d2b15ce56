package prober

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Backoff of (re)opening the assignment and site watches.
const (
	watchBackoffFirst = 100 * time.Millisecond
	watchBackoffMax   = 5 * time.Second
)

// following is the loop's view of its assignment and site watches.
//
// On a new bucket set the loop starts a second watch (next) while the
// current one keeps running; sites of either are checked. When next
// delivers its snapshot (Synced) it becomes current, the old watch stops,
// and sites of buckets no longer owned are dropped. So a kept bucket never
// pauses and a bucket that moved here is checked from its first event.
type following struct {
	assign     <-chan uptime.Assignment // nil until opened, or after it ended
	epoch      uint64                   // highest assignment epoch seen
	want       []int                    // buckets of the newest assignment, sorted
	haveWant   bool
	cur, next  *watch
	retry      *time.Timer // reopens what failed or ended
	retryDelay time.Duration
}

// watch is one SiteWatcher watch over a bucket set.
type watch struct {
	buckets []int
	owns    map[int]struct{}
	events  <-chan SiteEvent // nil once the channel closed
	cancel  context.CancelFunc
}

func (w *watch) ch() <-chan SiteEvent {
	if w == nil {
		return nil
	}
	return w.events
}

func (w *watch) alive() bool { return w != nil && w.events != nil }

func (w *watch) has(bucket int) bool {
	_, ok := w.owns[bucket]
	return ok
}

func (w *watch) stop() {
	if w != nil {
		w.cancel()
	}
}

// onAssignment follows a new assignment unless its epoch is lower than the
// highest seen (a deposed leader's late write).
func (l *loop) onAssignment(ctx context.Context, a uptime.Assignment, ok bool) {
	if !ok {
		l.assign = nil
		if ctx.Err() == nil {
			l.retryLater("assignment watch ended", nil)
		}
		return
	}
	// A deleted key arrives as an assignment without ranges or epoch: the
	// leader no longer counts this node (its presence expired), so it owns
	// nothing until it is assigned again.
	deleted := a.Epoch == 0 && len(a.Ranges) == 0
	if a.Epoch < l.epoch && !deleted {
		l.p.log.Warn("ignoring stale assignment", "epoch", a.Epoch, "highest_epoch", l.epoch)
		return
	}
	l.epoch = max(l.epoch, a.Epoch)
	buckets := a.Buckets()
	slices.Sort(buckets)
	l.want, l.haveWant = slices.Compact(buckets), true
	l.reconcile(ctx)
}

// reconcile opens the assignment watch if needed and makes the site watches
// converge on the wanted buckets; on failure it tries again later.
func (l *loop) reconcile(ctx context.Context) {
	if l.assign == nil {
		ch, err := l.p.opts.Assignments.WatchAssignment(ctx, l.p.opts.NodeID)
		if err != nil {
			l.retryLater("watch assignment", err)
			return
		}
		l.assign = ch
	}
	if l.haveWant {
		if err := l.converge(ctx); err != nil {
			l.retryLater("watch sites", err)
			return
		}
	}
	l.retryDelay = 0
}

// converge starts, abandons or swaps watches so that the wanted buckets are
// (or will be, once next syncs) the watched ones.
func (l *loop) converge(ctx context.Context) error {
	switch {
	case l.next.alive() && slices.Equal(l.next.buckets, l.want):
		return nil // waiting for its snapshot
	case l.cur.alive() && slices.Equal(l.cur.buckets, l.want):
		l.abandonNext() // the assignment came back before next synced
		return nil
	case len(l.want) == 0:
		l.abandonNext()
		l.cur.stop()
		l.cur = nil
		l.applied(l.sched.prune(func(int) bool { return false }))
		return nil
	}
	w, err := l.startWatch(ctx, l.want)
	if err != nil {
		return err
	}
	l.next.stop()
	l.next = w
	return nil
}

func (l *loop) startWatch(ctx context.Context, buckets []int) (*watch, error) {
	wctx, cancel := context.WithCancel(ctx)
	events, err := l.p.opts.Sites.WatchBuckets(wctx, buckets)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch buckets: %w", err)
	}
	owns := make(map[int]struct{}, len(buckets))
	for _, b := range buckets {
		owns[b] = struct{}{}
	}
	return &watch{buckets: buckets, owns: owns, events: events, cancel: cancel}, nil
}

// abandonNext stops a watch that has not synced yet and drops the sites it
// added for buckets the current watch does not own.
func (l *loop) abandonNext() {
	if l.next == nil {
		return
	}
	l.next.stop()
	l.next = nil
	keep := func(int) bool { return false }
	if l.cur != nil {
		keep = l.cur.has
	}
	l.sched.prune(keep)
	l.p.setSites(l.sched.len())
}

// swap makes the synced next watch current.
func (l *loop) swap() {
	l.cur.stop()
	l.cur, l.next = l.next, nil
	l.applied(l.sched.prune(l.cur.has))
}

// applied records that the watched bucket set changed.
func (l *loop) applied(dropped int) {
	n := 0
	if l.cur != nil {
		n = len(l.cur.buckets)
	}
	l.p.buckets.Store(int64(n))
	l.p.metrics.buckets.Set(float64(n))
	l.p.setSites(l.sched.len())
	l.p.log.Info("assignment applied", "epoch", l.epoch, "buckets", n, "sites", l.sched.len(), "dropped_sites", dropped)
}

// watchEnded handles a site watch whose channel closed. The adapter heals
// interruptions itself, so this is unexpected while ctx lives: its sites
// stay scheduled and a replacement watch is started after a backoff.
func (l *loop) watchEnded(ctx context.Context, w *watch) {
	w.events = nil
	if ctx.Err() != nil {
		return
	}
	if w == l.next {
		l.next.stop()
		l.next = nil
	}
	l.retryLater("site watch ended", nil)
}

// retryLater logs what failed and arms the retry timer with backoff.
func (l *loop) retryLater(what string, err error) {
	l.retryDelay = min(max(2*l.retryDelay, watchBackoffFirst), watchBackoffMax)
	l.p.log.Warn(what, "err", err, "retry_in", l.retryDelay)
	l.retry.Reset(l.retryDelay)
}

func (l *loop) stopWatches() {
	l.next.stop()
	l.cur.stop()
}
