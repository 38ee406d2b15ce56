package coordinator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// In-memory fakes of the incident ports: one event store behind the ingest
// commits (IngestBatch.Incidents) and IncidentStore.Apply, with its outbox.

// fakeEvents is the fake's incident tables: open events by identity, every
// event by id, every write, and the outbox.
type fakeEvents struct {
	mu     sync.Mutex
	open   map[string]uptime.Event // blog/check_type -> open event
	all    map[int64]uptime.Event  // id -> event as last written (closed ones too)
	writes []IncidentWrite         // committed, in order (applied changes only)
	outbox []OutboxRow
	nextID int64 // transition (and outbox row) ids
	// nextEventID is the last event id assigned by an open.
	nextEventID int64
	reads       atomic.Int32 // Event calls
	readErr     atomic.Bool  // Event fails
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{open: map[string]uptime.Event{}, all: map[int64]uptime.Event{}, nextEventID: 100}
}

func identity(blog int64, checkType string) string { return fmt.Sprint(blog, "/", checkType) }

// commit applies w as the event store would, or returns ErrIncidentConflict
// writing nothing. The caller holds no lock.
func (e *fakeEvents) commit(w IncidentWrite) error {
	if w.Empty() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	open, all, nextEventID := maps.Clone(e.open), maps.Clone(e.all), e.nextEventID
	var applied []uptime.Change
	for _, ch := range w.Changes {
		id := identity(ch.Event.BlogID, ch.Event.CheckType)
		cur, exists := open[id]
		ev := ch.Event
		switch {
		case ch.Op == uptime.OpOpen && exists, ch.Op == uptime.OpUpdate && !exists:
			return fmt.Errorf("%s of %s: %w", ch.Op, id, ErrIncidentConflict)
		case ch.Op == uptime.OpClose && (!exists || (ev.ID != 0 && ev.ID != cur.ID)):
			continue // nothing (or another event) open: a no-op
		case ch.Op == uptime.OpClose:
			delete(open, id)
			ev.ID = cur.ID
		case ch.Op == uptime.OpOpen:
			nextEventID++
			ev.ID = nextEventID
			open[id] = ev
		default:
			ev.ID = cur.ID
			open[id] = ev
		}
		all[ev.ID] = ev
		applied = append(applied, ch)
	}
	e.open, e.all, e.nextEventID = open, all, nextEventID
	w.Changes = applied
	e.writes = append(e.writes, w)
	for range w.Changes {
		e.nextID++
		e.outbox = append(e.outbox, OutboxRow{ID: e.nextID, TransitionID: e.nextID, Payload: []byte("{}")})
	}
	return nil
}

// Event is EventReader over the fake's events.
func (e *fakeEvents) Event(_ context.Context, id int64) (uptime.Event, bool, error) {
	e.reads.Add(1)
	if e.readErr.Load() {
		return uptime.Event{}, false, errBoom
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.open {
		if ev.ID == id {
			return ev, true, nil
		}
	}
	ev, ok := e.all[id]
	return ev, ok, nil
}

// openEvent returns the open event of blog's checkType.
func (e *fakeEvents) openEvent(blog int64, checkType string) (uptime.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok := e.open[identity(blog, checkType)]
	return ev, ok
}

// changes returns every committed change, in order.
func (e *fakeEvents) changes() []uptime.Change {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []uptime.Change
	for _, w := range e.writes {
		out = append(out, w.Changes...)
	}
	return out
}

// committedWrites returns the committed writes.
func (e *fakeEvents) committedWrites() []IncidentWrite {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.writes)
}

func (e *fakeEvents) outboxLen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.outbox)
}

// fakeIncidents is IncidentStore over fakeEvents.
type fakeIncidents struct {
	events *fakeEvents
	fence  *fakeFence
	mu     sync.Mutex
	errs   []error // returned (in order) before Apply works
}

func (s *fakeIncidents) OpenEvents(context.Context) ([]uptime.Event, error) {
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	var out []uptime.Event
	for _, ev := range s.events.open {
		out = append(out, ev)
	}
	return out, nil
}

func (s *fakeIncidents) Apply(_ context.Context, epoch uint64, w IncidentWrite) error {
	s.mu.Lock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if cur := s.fence.current(); cur != epoch {
		return fmt.Errorf("lease row at %d: %w", cur, ErrFenced)
	}
	return s.events.commit(w)
}

// fakeOutbox reads and deletes fakeEvents' outbox.
type fakeOutbox struct{ events *fakeEvents }

func (o fakeOutbox) Pending(_ context.Context, limit int) ([]OutboxRow, error) {
	o.events.mu.Lock()
	defer o.events.mu.Unlock()
	return slices.Clone(o.events.outbox[:min(limit, len(o.events.outbox))]), nil
}

func (o fakeOutbox) Delete(_ context.Context, ids []int64) error {
	o.events.mu.Lock()
	defer o.events.mu.Unlock()
	o.events.outbox = slices.DeleteFunc(o.events.outbox, func(r OutboxRow) bool { return slices.Contains(ids, r.ID) })
	return nil
}

// fakePublisher records published transition ids.
type fakePublisher struct {
	mu        sync.Mutex
	published []int64
	fail      atomic.Bool
}

func (p *fakePublisher) PublishTransition(_ context.Context, id int64, _ []byte) error {
	if p.fail.Load() {
		return errBoom
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, id)
	return nil
}

func (p *fakePublisher) ids() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.published)
}

// verifyCall is one Verify call.
type verifyCall struct {
	regions []string
	blogID  int64
	spec    uptime.CheckSpec
	wait    time.Duration // until the ctx deadline, when the call started
}

// fakeVerifier answers with vote(region) for each region (none when it
// returns false), after delay.
type fakeVerifier struct {
	mu    sync.Mutex
	calls []verifyCall
	vote  func(region string) (uptime.Vote, bool)
	delay time.Duration
}

func (v *fakeVerifier) Verify(ctx context.Context, regions []string, blogID int64, spec uptime.CheckSpec) ([]uptime.Vote, error) {
	dl, _ := ctx.Deadline()
	v.mu.Lock()
	v.calls = append(v.calls, verifyCall{regions: slices.Clone(regions), blogID: blogID, spec: spec, wait: time.Until(dl)})
	vote, delay := v.vote, v.delay
	v.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, nil // the deadline passed: nobody answered in time
		}
	}
	var votes []uptime.Vote
	for _, r := range regions {
		if vote == nil {
			continue
		}
		if vt, ok := vote(r); ok {
			votes = append(votes, vt)
		}
	}
	return votes, nil
}

func (v *fakeVerifier) setVote(vote func(region string) (uptime.Vote, bool)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.vote = vote
}

func (v *fakeVerifier) verifyCalls() []verifyCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.calls)
}

// downVote and upVote are votes of region.
func downVote(region string) (uptime.Vote, bool) {
	return uptime.Vote{Region: region, NodeID: "v-" + region, HTTPCode: 503}, true
}

func upVote(region string) (uptime.Vote, bool) {
	return uptime.Vote{Region: region, NodeID: "v-" + region, Up: true, HTTPCode: 200}, true
}

// proberCall is one on-demand check.
type proberCall struct {
	nodeID string
	spec   uptime.CheckSpec
}

// fakeProber answers on-demand checks with result (CheckedAt: now).
type fakeProber struct {
	mu     sync.Mutex
	calls  []proberCall
	result uptime.Result
	err    error
}

func (p *fakeProber) Check(_ context.Context, nodeID string, spec uptime.CheckSpec) (uptime.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, proberCall{nodeID: nodeID, spec: spec})
	r := p.result
	r.CheckedAt = time.Now()
	return r, p.err
}

// fakeDrift counts drift calls and returns n.
type fakeDrift struct {
	n     atomic.Int64
	calls atomic.Int32
}

func (d *fakeDrift) DriftCount(context.Context, uptime.BucketRange) (int, error) {
	d.calls.Add(1)
	return int(d.n.Load()), nil
}
