package coordinator

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// verifyGrace is how much longer than a site's check timeout a
// confirmation waits for votes (DESIGN §2 step 6).
const verifyGrace = 5 * time.Second

// verifyQueueFactor sizes the verification queue: this many jobs per
// worker may wait. Beyond it a confirmation is answered with no votes at
// once, and the site asks again after its next NUM_OF_CHECKS failures.
const verifyQueueFactor = 16

// Verification outcomes, the label values of jetmon_verifications_total.
const (
	outcomeConfirmed    = "confirmed"
	outcomeFalseAlarm   = "false_alarm"
	outcomeNoResponders = "no_responders"
)

// regionSet is the live veriflier regions of a term, written by the
// veriflier watch and read by the ingest loop.
type regionSet struct {
	mu      sync.Mutex
	regions map[string]bool
	ready   chan struct{} // closed on the first snapshot
	once    sync.Once
}

func newRegionSet() *regionSet {
	return &regionSet{regions: map[string]bool{}, ready: make(chan struct{})}
}

// set records a snapshot of the live verifliers.
func (s *regionSet) set(nodes []uptime.Node) {
	regions := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n.Region != "" {
			regions[n.Region] = true
		}
	}
	s.mu.Lock()
	s.regions = regions
	s.mu.Unlock()
	s.once.Do(func() { close(s.ready) })
}

// except lists the live regions other than region, sorted.
func (s *regionSet) except(region string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Sorted(maps.Keys(s.regions))
	return slices.DeleteFunc(out, func(r string) bool { return r == region })
}

// verifyJob is one confirmation to ask.
type verifyJob struct {
	blogID    int64
	startedAt time.Time // of the Seems Down asked about
	spec      uptime.CheckSpec
	regions   []string
	wait      time.Duration // for the votes
}

// verifyOutcome is a confirmation's votes, back to the ingest loop.
type verifyOutcome struct {
	blogID    int64
	startedAt time.Time
	votes     []uptime.Vote
}

// jobFor is the confirmation a RequestVerification asks of site.
func (inc *incidents) jobFor(req incident.RequestVerification, site uptime.Site) verifyJob {
	spec := site.Spec
	spec.BlogID = req.BlogID
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = inc.c.opts.CheckTimeout
	}
	return verifyJob{blogID: req.BlogID, startedAt: req.StartedAt, spec: spec,
		regions: inc.w.regions.except(req.Result.Region), wait: timeout + verifyGrace}
}

// ask queues job for the verification workers without ever blocking; with
// the queue full the confirmation gets no votes.
func (inc *incidents) ask(job verifyJob) {
	select {
	case inc.w.jobs <- job:
	default:
		inc.c.log.Warn("verification queue full; answering with no votes", "blog_id", job.blogID)
		inc.overflow = append(inc.overflow, verifyOutcome{blogID: job.blogID, startedAt: job.startedAt})
	}
}

// runVerifier is one verification worker of the term: it asks the
// verifliers for each job and hands the votes back to the ingest loop. It
// returns nil when ctx ends; jobs in flight are dropped (the next term asks
// again).
func (c *Coordinator) runVerifier(ctx context.Context, w *termWork) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case job := <-w.jobs:
			out := verifyOutcome{blogID: job.blogID, startedAt: job.startedAt, votes: c.verify(ctx, job)}
			select {
			case w.outcomes <- out:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// verify asks job's regions and returns the votes that arrived in time; a
// failure counts as no votes.
func (c *Coordinator) verify(ctx context.Context, job verifyJob) []uptime.Vote {
	if len(job.regions) == 0 {
		return nil
	}
	vctx, cancel := context.WithTimeout(ctx, job.wait)
	defer cancel()
	votes, err := c.opts.Verifier.Verify(vctx, job.regions, job.blogID, job.spec)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("verify", "blog_id", job.blogID, "err", err)
		}
		return nil
	}
	for _, v := range votes {
		c.m.votes.WithLabelValues(v.Region, strconv.FormatBool(v.Up)).Inc()
	}
	return votes
}

// verified decides a confirmation's outcome and writes it. An outcome for a
// site that no longer has state (closed meanwhile) changes nothing.
func (inc *incidents) verified(ctx context.Context, o verifyOutcome) error {
	t, ok := inc.sites[o.blogID]
	if !ok {
		return nil
	}
	d := newDecided(inc.c.opts.Now())
	inc.decide(d, o.blogID, t, incident.VerificationInput{StartedAt: o.startedAt, Votes: o.votes, Site: t.site})
	if len(d.write.Changes) > 0 && len(o.votes) > 0 {
		d.write.Votes[o.blogID] = o.votes
	}
	// An outcome the state machine ignored (not the confirmation in
	// flight) decided nothing.
	answered := t.state.Confirming.InFlight() && !d.next[o.blogID].state.Confirming.InFlight()
	if outcome := outcomeOf(o.votes, d.write.Changes); answered && outcome != "" {
		inc.c.m.verifications.WithLabelValues(outcome).Inc()
	}
	return inc.apply(ctx, d)
}

// outcomeOf names what a confirmation decided; "" when it was moot.
func outcomeOf(votes []uptime.Vote, changes []uptime.Change) string {
	if len(votes) == 0 {
		return outcomeNoResponders
	}
	for _, ch := range changes {
		switch ch.Transition.Reason {
		case uptime.ReasonVerifierConfirmed:
			return outcomeConfirmed
		case uptime.ReasonFalseAlarm:
			return outcomeFalseAlarm
		default:
		}
	}
	return ""
}
