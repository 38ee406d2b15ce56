package coordinator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// siteRefresh is how long a tracked site's configuration (maintenance
// window, cooldown, spec) is used before it is read again.
const siteRefresh = time.Minute

// tracked is what a term remembers of one site with incident state: an open
// event or a confirmation in flight. Sites without are forgotten: what they
// need later (last check, last down notification) is on their row.
type tracked struct {
	state   incident.SiteState
	site    uptime.Site
	fetched time.Time // when site was read
	// seemsDownAt is when this term opened the site's HTTP Seems Down; zero
	// when an earlier term did (its detection timings are not observed).
	seemsDownAt time.Time
}

// keep reports whether the site has state worth remembering.
func (t tracked) keep() bool { return len(t.state.Open) > 0 || t.state.Confirming.InFlight() }

// incidents is one term's incident state. Only the ingest loop's goroutine
// touches it: batches, verification outcomes and commands are decided there,
// one at a time, so decisions never race.
type incidents struct {
	c     *Coordinator
	w     *termWork
	sites map[int64]tracked
	// paused are sites paused or deleted by command, with the end of their
	// pauseGrace: until then their rows are taken as inactive.
	paused map[int64]time.Time
	// overflow are confirmations answered with no votes because the
	// verification queue was full; the next drain decides them.
	overflow []verifyOutcome
}

// decided is the outcome of decisions before their write commits: the
// write, the sites' memory after it, and what to do once it committed.
type decided struct {
	now     time.Time // the decisions' time
	write   IncidentWrite
	next    map[int64]tracked
	asks    []verifyJob
	timings []detection
}

func newDecided(now time.Time) *decided {
	return &decided{
		now: now,
		write: IncidentWrite{AlertsSent: map[int64]time.Time{}, Sites: map[int64]uptime.Site{},
			Votes: map[int64][]uptime.Vote{}},
		next: map[int64]tracked{},
	}
}

// restoreIncidents rebuilds the term's incident state from the store's open
// events and their sites' rows. It reports false when ctx ended first.
func (c *Coordinator) restoreIncidents(ctx context.Context, w *termWork) (*incidents, bool) {
	inc := &incidents{c: c, w: w, sites: map[int64]tracked{}, paused: map[int64]time.Time{}}
	var open []uptime.Event
	if !c.retry(ctx, "read open events", func(ctx context.Context) error {
		var err error
		open, err = c.opts.Incidents.OpenEvents(ctx)
		return err
	}) {
		return nil, false
	}
	byBlog := map[int64][]uptime.Event{}
	for _, ev := range open {
		byBlog[ev.BlogID] = append(byBlog[ev.BlogID], ev)
	}
	var records map[int64]SiteRecord
	if !c.retry(ctx, "read sites of open events", func(ctx context.Context) error {
		var err error
		records, err = c.lookup(ctx, slices.Collect(maps.Keys(byBlog)))
		return err
	}) {
		return nil, false
	}
	now := c.opts.Now()
	for blog, events := range byBlog {
		rec, ok := records[blog]
		if !ok {
			rec.Site = uptime.Site{BlogID: blog, Spec: uptime.CheckSpec{BlogID: blog}}
		}
		inc.remember(blog, tracked{state: incident.Restore(blog, events, rec.LastCheckedAt, rec.LastAlertSentAt),
			site: rec.Site, fetched: now})
	}
	c.log.Info("incident state restored", "open_events", len(open), "sites", len(inc.sites))
	return inc, true
}

// lookup reads the sites of blogIDs by blog id.
func (c *Coordinator) lookup(ctx context.Context, blogIDs []int64) (map[int64]SiteRecord, error) {
	out := make(map[int64]SiteRecord, len(blogIDs))
	if len(blogIDs) == 0 {
		return out, nil
	}
	recs, err := c.opts.SiteSource.Sites(ctx, blogIDs)
	if err != nil {
		return nil, fmt.Errorf("read %d sites: %w", len(blogIDs), err)
	}
	for _, r := range recs {
		if r.Site.Spec.BlogID == 0 {
			r.Site.Spec.BlogID = r.Site.BlogID
		}
		out[r.Site.BlogID] = r
	}
	return out, nil
}

// decideBatch feeds a batch's results, in stream order, to the state
// machine as check inputs. It reads the sites it needs first: sites with
// state whose configuration is old, and untracked sites that fail or whose
// result would change something (an advisory). A site whose row was read
// inactive or absent decides nothing (its open events stay as they are),
// and a site paused within pauseGrace counts as one.
func (inc *incidents) decideBatch(ctx context.Context, results []uptime.ProbeResult) (*decided, error) {
	now := inc.c.opts.Now()
	asked := inc.lookupsFor(results, now)
	records, err := inc.c.lookup(ctx, asked)
	if err != nil {
		return nil, err
	}
	for _, id := range asked {
		if _, ok := records[id]; !ok {
			records[id] = SiteRecord{} // no row: as an inactive one
		}
	}
	inc.pausedAsInactive(records, now)
	d := newDecided(now)
	for _, r := range results {
		t, ok := inc.current(d, r.BlogID, records, now)
		if !ok {
			continue
		}
		inc.decide(d, r.BlogID, t, incident.CheckInput{Result: r, Site: t.site})
	}
	return d, nil
}

// lookupsFor lists the blogs of results whose rows a batch must read.
func (inc *incidents) lookupsFor(results []uptime.ProbeResult, now time.Time) []int64 {
	need := map[int64]bool{}
	for _, r := range results {
		if need[r.BlogID] {
			continue
		}
		if t, ok := inc.sites[r.BlogID]; ok {
			need[r.BlogID] = now.Sub(t.fetched) >= siteRefresh
			continue
		}
		if r.IsFailure() {
			need[r.BlogID] = true
			continue
		}
		// A success of an untracked site changes something only through
		// an advisory; asking the state machine is cheaper than a read.
		_, changes, _ := incident.Decide(incident.SiteState{}, incident.CheckInput{Result: r},
			inc.policyFor(r.Region), now)
		need[r.BlogID] = len(changes) > 0
	}
	var out []int64
	for id, ok := range need {
		if ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// current is blog's memory as the decisions of d left it; ok is false for
// a site whose row was read and is inactive (or absent), and for an
// untracked site that was not read.
func (inc *incidents) current(d *decided, blog int64, records map[int64]SiteRecord, now time.Time) (tracked, bool) {
	rec, read := records[blog]
	if read && !rec.Active {
		return tracked{}, false
	}
	if t, ok := d.next[blog]; ok {
		return t, true
	}
	if t, ok := inc.sites[blog]; ok {
		if read {
			t.site, t.fetched = rec.Site, now
		}
		return t, true
	}
	if !read {
		return tracked{}, false
	}
	return tracked{state: incident.Restore(blog, nil, rec.LastCheckedAt, rec.LastAlertSentAt),
		site: rec.Site, fetched: now}, true
}

// policyFor is the policy of a result checked from region: confirmation is
// asked of verifliers only when another region has one.
func (inc *incidents) policyFor(region string) incident.Policy {
	p := inc.c.opts.Policy
	p.HaveVerifiers = len(inc.w.regions.except(region)) > 0
	return p
}

// decide applies one input to blog's memory t at d's time and adds its
// outcome to d. A check is decided with the policy of its region.
func (inc *incidents) decide(d *decided, blog int64, t tracked, in incident.Input) {
	p := inc.c.opts.Policy
	if check, ok := in.(incident.CheckInput); ok {
		p = inc.policyFor(check.Result.Region)
	}
	next, changes, effects := incident.Decide(t.state, in, p, d.now)
	before := t.state
	t.state = next
	for _, ch := range changes {
		d.timings = append(d.timings, detectionOf(ch, t.seemsDownAt)...)
		if ch.Op == uptime.OpOpen && ch.Event.CheckType == uptime.CheckTypeHTTP {
			t.seemsDownAt = ch.Transition.ChangedAt
		}
	}
	d.write.Changes = append(d.write.Changes, changes...)
	if len(changes) > 0 {
		d.write.Sites[blog] = t.site
	}
	if !next.LastDownNotifiedAt.Equal(before.LastDownNotifiedAt) {
		d.write.AlertsSent[blog] = next.LastDownNotifiedAt
	}
	for _, e := range effects {
		switch e := e.(type) {
		case incident.RequestVerification:
			d.asks = append(d.asks, inc.jobFor(e, t.site))
		case incident.RecordFalsePositive:
			d.write.FalsePositives = append(d.write.FalsePositives, e.FalsePositive)
		}
	}
	d.next[blog] = t
}

// committed makes d's decisions the term's memory once their write
// committed: it remembers the sites, observes the detection timings, asks
// for the confirmations and wakes the outbox relay.
func (inc *incidents) committed(d *decided) {
	for _, ch := range d.write.Changes {
		tr := ch.Transition
		inc.c.log.Debug("incident transition", "blog_id", tr.BlogID, "check_type", tr.CheckType,
			"reason", tr.Reason, "state", ch.Event.State, "source", tr.Source, "notify", tr.Notify.Notify)
	}
	for blog, t := range d.next {
		inc.remember(blog, t)
	}
	for _, dt := range d.timings {
		inc.c.m.detection.WithLabelValues(dt.stage).Observe(dt.seconds)
	}
	for _, job := range d.asks {
		inc.ask(job)
	}
	if len(d.write.Changes) > 0 {
		select {
		case inc.w.relay <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// remember stores t as blog's memory (or forgets it) and keeps the open
// events gauge in step.
func (inc *incidents) remember(blog int64, t tracked) {
	if old, ok := inc.sites[blog]; ok {
		inc.c.m.countOpen(old.state.Open, -1)
	}
	if !t.keep() {
		delete(inc.sites, blog)
		return
	}
	inc.sites[blog] = t
	inc.c.m.countOpen(t.state.Open, 1)
}

// apply writes d outside a batch (fenced by the term's epoch), retrying
// until it commits, and then makes it the term's memory. It returns an error
// when fenced, in conflict with the store, or when ctx ended first.
func (inc *incidents) apply(ctx context.Context, d *decided) error {
	if !d.write.Empty() {
		b := backoff{}
		for {
			err := inc.c.opts.Incidents.Apply(ctx, inc.w.epoch, d.write)
			if err == nil {
				break
			}
			if ctx.Err() != nil || isTermEnding(err) {
				return fmt.Errorf("apply %d incident changes: %w", len(d.write.Changes), err)
			}
			inc.c.log.Warn("apply incident changes; retrying", "err", err, "attempt", b.attempt+1)
			if !b.wait(ctx, nil) {
				return fmt.Errorf("apply %d incident changes: %w", len(d.write.Changes), ctx.Err())
			}
		}
	}
	inc.committed(d)
	return nil
}

// drainCommands bounds the commands one drain decides, so a stream of them
// cannot hold results back.
const drainCommands = 16

// drain decides what arrived since the last batch: verification outcomes,
// then operator commands. It returns an error only when the term must end.
func (inc *incidents) drain(ctx context.Context) error {
	pending := inc.overflow
	inc.overflow = nil
	for range len(inc.w.outcomes) {
		pending = append(pending, <-inc.w.outcomes)
	}
	for _, o := range pending {
		if err := inc.verified(ctx, o); err != nil {
			return endingErr(ctx, err)
		}
	}
	for range drainCommands {
		select {
		case cmd := <-inc.w.commands:
			if err := inc.command(ctx, cmd); err != nil {
				return endingErr(ctx, err)
			}
		default:
			return nil
		}
	}
	return nil
}

// endingErr is err unless ctx ended: then the term ends quietly.
func endingErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
