package prober

import (
	"context"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// loop is the prober's single scheduling goroutine. It owns the schedule,
// the assignment and the site watches; checks run in their own goroutines
// and report back on done.
type loop struct {
	p        *Prober
	sched    *schedule
	checks   *sync.WaitGroup
	done     chan completion // capacity MaxConcurrentChecks: a check never blocks on it
	inFlight int

	following
}

// job is what a check goroutine needs, copied out of the entry so that the
// goroutine never reads loop-owned state.
type job struct {
	e        *entry // handed back in the completion only
	spec     uptime.CheckSpec
	bucket   int
	due      time.Time
	failures int
}

// completion reports a finished check to the loop.
type completion struct {
	e        *entry
	failures int  // consecutive failures including this check
	aborted  bool // cancelled at the shutdown deadline: no result
}

func newLoop(p *Prober, checks *sync.WaitGroup) *loop {
	o := p.opts
	return &loop{
		p:      p,
		sched:  newSchedule(o.MinCheckInterval, o.TimeBetweenChecks, o.NumOfChecks),
		checks: checks,
		done:   make(chan completion, o.MaxConcurrentChecks),
	}
}

// run schedules until ctx ends. Checks run under work, which outlives ctx so
// that in-flight checks can finish during the drain.
func (l *loop) run(ctx, work context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	l.retry = time.NewTimer(0) // opens the assignment watch at once
	defer l.retry.Stop()
	defer l.stopWatches()
	defer l.p.oldestDue.Store(0)
	for {
		l.dispatch(work)
		l.arm(timer)
		select {
		case <-ctx.Done():
			return
		case a, ok := <-l.assign:
			l.onAssignment(ctx, a, ok)
		case ev, ok := <-l.cur.ch():
			l.onSiteEvent(ctx, l.cur, ev, ok)
		case ev, ok := <-l.next.ch():
			l.onSiteEvent(ctx, l.next, ev, ok)
		case c := <-l.done:
			l.onDone(c)
		case <-timer.C:
		case <-l.retry.C:
			l.reconcile(ctx)
		}
	}
}

// onSiteEvent applies one event of w to the schedule. Events of a watch
// being replaced still apply until the swap: its buckets stay checked
// without a gap.
func (l *loop) onSiteEvent(ctx context.Context, w *watch, ev SiteEvent, ok bool) {
	if !ok {
		l.watchEnded(ctx, w)
		return
	}
	switch {
	case ev.Synced:
		if w == l.next {
			l.swap()
		}
	case ev.Removed:
		if w.has(ev.Bucket) {
			l.sched.remove(ev.Bucket, ev.BlogID)
		}
	case w.has(ev.Site.Bucket) && ev.Site.BlogID != 0:
		l.sched.upsert(ev.Site, l.p.opts.Now())
	}
	l.p.setSites(l.sched.len())
}

// dispatch starts every due check while a slot is free. A check that starts
// late is still started: its lateness goes to the check-age histogram, and
// the oldest waiting one drives the schedule-lag gauge.
func (l *loop) dispatch(work context.Context) {
	now := l.p.opts.Now()
	for l.inFlight < l.p.opts.MaxConcurrentChecks {
		e := l.sched.peek()
		if e == nil || e.due.After(now) {
			break
		}
		l.sched.pop()
		l.inFlight++
		l.p.metrics.checkAge.Observe(now.Sub(e.due).Seconds())
		j := job{e: e, spec: e.spec, bucket: e.bucket, due: e.due, failures: e.failures}
		l.checks.Go(func() { l.p.runCheck(work, j, l.done) })
	}
	l.p.metrics.inFlight.Set(float64(l.inFlight))
	if e := l.sched.peek(); e != nil {
		l.p.oldestDue.Store(e.due.UnixNano())
	} else {
		l.p.oldestDue.Store(0)
	}
}

// arm sets timer to the next due time, or stops it when nothing is queued
// or every slot is busy (a completion wakes the loop then).
func (l *loop) arm(timer *time.Timer) {
	e := l.sched.peek()
	if e == nil || l.inFlight >= l.p.opts.MaxConcurrentChecks {
		timer.Stop()
		return
	}
	timer.Reset(e.due.Sub(l.p.opts.Now()))
}

// onDone reschedules a checked site (unless it was removed meanwhile).
func (l *loop) onDone(c completion) {
	l.inFlight--
	if c.aborted {
		return
	}
	if missed := l.sched.complete(c.e, c.failures, l.p.opts.Now()); missed > 0 {
		l.p.metrics.missedSlots.Add(float64(missed))
	}
}

// runCheck runs one scheduled check, queues its result and reports back.
func (p *Prober) runCheck(work context.Context, j job, done chan<- completion) {
	res := p.opts.Checker.Check(work, j.spec)
	if work.Err() != nil {
		done <- completion{e: j.e, aborted: true}
		return
	}
	failures := 0
	if res.IsFailure() {
		failures = j.failures + 1
		p.metrics.checkFailure.Inc()
	} else {
		p.metrics.checkSuccess.Inc()
	}
	p.checks.Add(1)
	p.queue.push(&uptime.ProbeResult{
		Result:   res,
		Bucket:   j.bucket,
		Region:   p.opts.Region,
		NodeID:   p.opts.NodeID,
		DueAt:    j.due,
		Failures: failures,
	})
	done <- completion{e: j.e, failures: failures}
}

// setSites publishes the number of sites held.
func (p *Prober) setSites(n int) {
	p.sites.Store(int64(n))
	p.metrics.sites.Set(float64(n))
}
