package deliverer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// In-memory implementations of the deliverer's ports, with the semantics
// the port documents (internal/deliverystore implements them on MySQL).

type fakeAttempt struct {
	id         int64
	deliveryID int64
	attempt    int
	node       string
	outcome    string
	statusCode int
	errText    string
}

type fakeStore struct {
	mu        sync.Mutex
	failNext  error // the next store call fails with it
	lookupErr error // every destination lookup fails with it
	nextID    int64
	rows      map[int64]*Row
	byKey     map[string]int64
	attempts  []*fakeAttempt
	audits    []Audit
	auditOf   map[int64]bool // transitions whose audits were written
	dead      map[string]DeadLetterRecord
	hooks     map[int64]uptime.Webhook
	contacts  map[int64]uptime.AlertContact
	tenants   map[int64][]string
}

func newFakeStore() *fakeStore {
	return &fakeStore{rows: map[int64]*Row{}, byKey: map[string]int64{}, auditOf: map[int64]bool{},
		dead: map[string]DeadLetterRecord{}, hooks: map[int64]uptime.Webhook{},
		contacts: map[int64]uptime.AlertContact{}, tenants: map[int64][]string{}}
}

func (s *fakeStore) fail() error {
	err := s.failNext
	s.failNext = nil
	return err
}

func (s *fakeStore) ActiveWebhooks(context.Context) ([]uptime.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return nil, err
	}
	var out []uptime.Webhook
	for _, w := range s.hooks {
		if w.Active {
			out = append(out, w)
		}
	}
	return out, nil
}

func (s *fakeStore) ActiveAlertContacts(context.Context) ([]uptime.AlertContact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uptime.AlertContact
	for _, c := range s.contacts {
		if c.Active {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *fakeStore) SiteTenants(_ context.Context, blogID int64) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenants[blogID], nil
}

func (s *fakeStore) FanOut(_ context.Context, f FanOut) (FanOutResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return FanOutResult{}, err
	}
	out := FanOutResult{Created: map[uptime.DeliveryKind]int{}}
	for _, d := range f.Deliveries {
		key := fmt.Sprintf("%s/%d/%d", d.Kind, d.DestinationID, f.TransitionID)
		id, ok := s.byKey[key]
		if !ok {
			out.Created[d.Kind]++
			s.nextID++
			id = s.nextID
			s.byKey[key] = id
			s.rows[id] = &Row{Delivery: uptime.Delivery{ID: id, Kind: d.Kind, DestinationID: d.DestinationID,
				TransitionID: f.TransitionID, EventID: f.EventID, BlogID: f.BlogID, EventType: d.EventType,
				Severity: d.Severity, Payload: d.Payload, Status: uptime.DeliveryPending, NextAttemptAt: f.Now},
				TransitionAt: f.TransitionAt}
		}
		out.Rows = append(out.Rows, *s.rows[id])
	}
	if !s.auditOf[f.TransitionID] && len(f.Audits) > 0 {
		s.auditOf[f.TransitionID] = true
		s.audits = append(s.audits, f.Audits...)
		out.Audited = true
	}
	return out, nil
}

func (s *fakeStore) Row(_ context.Context, id int64) (Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return Row{}, err
	}
	r, ok := s.rows[id]
	if !ok {
		return Row{}, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	return *r, nil
}

func (s *fakeStore) Claim(_ context.Context, c ClaimRequest) (ClaimResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[c.DeliveryID]
	switch {
	case !ok || r.Status != uptime.DeliveryPending || r.Generation != c.Generation:
		return ClaimResult{Outcome: Settled}, nil
	case r.ClaimUntil.After(c.Now):
		return ClaimResult{Outcome: Busy, RetryIn: r.ClaimUntil.Sub(c.Now)}, nil
	case r.NextAttemptAt.After(c.Now):
		return ClaimResult{Outcome: Busy, RetryIn: r.NextAttemptAt.Sub(c.Now)}, nil
	}
	r.ClaimedBy, r.ClaimUntil, r.Attempt, r.LastAttemptAt = c.NodeID, c.Now.Add(c.Lease), r.Attempt+1, c.Now
	a := &fakeAttempt{id: int64(len(s.attempts) + 1), deliveryID: r.ID, attempt: r.Attempt, node: c.NodeID, outcome: "sending"}
	s.attempts = append(s.attempts, a)
	if c.RateCap {
		contact := s.contacts[r.DestinationID]
		if contact.MaxPerHour > 0 && s.sentTo(r.DestinationID) > contact.MaxPerHour {
			a.outcome, a.statusCode = OutcomeRateLimited, 429
			r.Status, r.LastStatusCode, r.ClaimedBy, r.ClaimUntil = uptime.DeliveryAbandoned, 429, "", time.Time{}
			r.LastResponse = fmt.Sprintf("rate-limited: contact %d exceeded max_per_hour=%d", r.DestinationID, contact.MaxPerHour)
			return ClaimResult{Outcome: RateLimited, Row: *r, AttemptID: a.id}, nil
		}
	}
	return ClaimResult{Outcome: Claimed, Row: *r, AttemptID: a.id}, nil
}

// sentTo counts the attempts (this one included) sent to an alert contact.
func (s *fakeStore) sentTo(contactID int64) int {
	n := 0
	for _, a := range s.attempts {
		if r := s.rows[a.deliveryID]; r.Kind == uptime.DeliveryAlert && r.DestinationID == contactID &&
			a.outcome != OutcomeRateLimited && a.outcome != OutcomeDeferred {
			n++
		}
	}
	return n
}

func (s *fakeStore) Finish(_ context.Context, f Finish) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return false, err
	}
	a := s.attempts[f.AttemptID-1]
	a.outcome, a.statusCode, a.errText = f.Outcome, f.StatusCode, f.Error
	r := s.rows[f.DeliveryID]
	if r.Status != uptime.DeliveryPending || r.Generation != f.Generation ||
		(f.Status != uptime.DeliveryDelivered && r.ClaimedBy != f.NodeID) {
		return false, nil
	}
	r.Status, r.LastStatusCode, r.LastResponse = f.Status, f.StatusCode, f.Response
	r.NextAttemptAt, r.ClaimedBy, r.ClaimUntil = f.NextAttemptAt, "", time.Time{}
	if f.Refund {
		r.Attempt--
	}
	if f.Status == uptime.DeliveryDelivered {
		r.DeliveredAt = f.Now
	}
	return true, nil
}

func (s *fakeStore) Webhook(_ context.Context, id int64) (uptime.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookupErr != nil {
		return uptime.Webhook{}, s.lookupErr
	}
	w, ok := s.hooks[id]
	if !ok {
		return uptime.Webhook{}, ErrNotFound
	}
	return w, nil
}

func (s *fakeStore) AlertContact(_ context.Context, id int64) (uptime.AlertContact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok {
		return uptime.AlertContact{}, ErrNotFound
	}
	return c, nil
}

func (s *fakeStore) RecordDeadLetter(_ context.Context, r DeadLetterRecord) (bool, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return false, false, err
	}
	key := fmt.Sprintf("%s/%d", r.Stream, r.StreamSeq)
	if _, ok := s.dead[key]; ok {
		return false, false, nil
	}
	s.dead[key] = r
	row, ok := s.rows[r.DeliveryID]
	if !ok || row.Status != uptime.DeliveryPending || row.Generation != r.Generation {
		return true, false, nil
	}
	row.Status, row.LastResponse, row.ClaimedBy, row.ClaimUntil = uptime.DeliveryAbandoned, r.AbandonNote, "", time.Time{}
	return true, true, nil
}

func (s *fakeStore) Retry(_ context.Context, id int64, now time.Time) (Row, Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[id]
	if !ok {
		return Row{}, Row{}, ErrNotFound
	}
	if r.Status != uptime.DeliveryAbandoned && r.Status != uptime.DeliveryFailed {
		return Row{}, Row{}, fmt.Errorf("delivery %d is %s: %w", id, r.Status, ErrNotRetryable)
	}
	before := *r
	r.Status, r.Attempt, r.NextAttemptAt, r.Generation = uptime.DeliveryPending, 0, now, r.Generation+1
	r.LastStatusCode, r.LastResponse, r.LastAttemptAt, r.DeliveredAt = 0, "", time.Time{}, time.Time{}
	return before, *r, nil
}

func (s *fakeStore) UndoRetry(_ context.Context, before Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rows[before.ID]
	if r.Status == uptime.DeliveryPending && r.Attempt == 0 && r.Generation == before.Generation+1 {
		gen := r.Generation
		*r = before
		r.Generation = gen
	}
	return nil
}

func (s *fakeStore) row(t *testing.T, id int64) Row {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[id]
	if !ok {
		t.Fatalf("no delivery %d", id)
	}
	return *r
}

func (s *fakeStore) outcomes(id int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.attempts {
		if a.deliveryID == id {
			out = append(out, a.outcome)
		}
	}
	return out
}

// fakeJobs records published jobs, deduplicating like the stream's
// duplicate window (delivery and generation).
type fakeJobs struct {
	mu   sync.Mutex
	err  error
	seen map[string]bool
	jobs []Job
}

func (p *fakeJobs) PublishJob(_ context.Context, j Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	id := fmt.Sprintf("delivery-%d-%d", j.DeliveryID, j.Generation)
	if !p.seen[id] {
		p.seen[id] = true
		p.jobs = append(p.jobs, j)
	}
	return nil
}

func (p *fakeJobs) all() []Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Job(nil), p.jobs...)
}

// settlement is how a handler settled a message.
type settlement struct {
	mu       sync.Mutex
	how      string // "ack", "nak", "term", "" (unsettled)
	delay    time.Duration
	reason   string
	progress int
}

func (s *settlement) get() (string, time.Duration, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.how, s.delay, s.reason
}

func message(consumer string, data []byte, delivered int) (Message, *settlement) {
	s := &settlement{}
	set := func(how string, d time.Duration, reason string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.how != "" {
			return errors.New("already settled")
		}
		s.how, s.delay, s.reason = how, d, reason
		return nil
	}
	return Message{
		Stream: "JETMON_DELIVERY", Consumer: consumer, Subject: "jetmon.deliver." + consumer, Data: data,
		StreamSeq: 7, Delivered: delivered, PublishedAt: fixtureTime,
		Ack:  func(context.Context) error { return set("ack", 0, "") },
		Nak:  func(_ context.Context, d time.Duration) error { return set("nak", d, "") },
		Term: func(_ context.Context, reason string) error { return set("term", 0, reason) },
		Progress: func(context.Context) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.progress++
			return nil
		},
	}, s
}

// scripted answers sends from a list of results, then repeats the last.
type scripted struct {
	mu      sync.Mutex
	results []sendResult
	calls   int
	block   chan struct{} // when set, a send waits for it or its context
	seen    []any         // hooks, notices or status changes sent
}

type sendResult struct {
	res uptime.SendResult
	err error
}

func (s *scripted) next(ctx context.Context, what any) (uptime.SendResult, error) {
	s.mu.Lock()
	s.calls++
	s.seen = append(s.seen, what)
	r := sendResult{res: uptime.SendResult{StatusCode: 200, Response: "ok"}}
	if len(s.results) > 0 {
		r = s.results[0]
		if len(s.results) > 1 {
			s.results = s.results[1:]
		}
	}
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return uptime.SendResult{}, ctx.Err()
		}
	}
	return r.res, r.err
}

func (s *scripted) SendWebhook(ctx context.Context, hook uptime.Webhook, _ uptime.Delivery) (uptime.SendResult, error) {
	return s.next(ctx, hook)
}

func (s *scripted) SendAlert(ctx context.Context, _ map[string]string, n uptime.Notice) (uptime.SendResult, error) {
	return s.next(ctx, n)
}

func (s *scripted) NotifyStatusChange(ctx context.Context, c uptime.StatusChange) (uptime.SendResult, error) {
	return s.next(ctx, c)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// idleQueue consumes nothing until ctx ends.
type idleQueue struct{}

func (idleQueue) Consume(ctx context.Context, _ Handler) error {
	<-ctx.Done()
	return nil
}

type idleDeadLetters struct{}

func (idleDeadLetters) Run(ctx context.Context, _ func(context.Context, DeadLetter) error) error {
	<-ctx.Done()
	return nil
}

type fixedBacklog []QueueBacklog

func (b fixedBacklog) Backlog(context.Context) ([]QueueBacklog, error) { return b, nil }

// world is one test's deliverer on fakes.
type world struct {
	d      *Deliverer
	store  *fakeStore
	jobs   *fakeJobs
	sender *scripted
	clock  *fakeClock
	reg    *prometheus.Registry
}

func newWorld(t *testing.T, mod func(*Opts)) *world {
	t.Helper()
	w := &world{store: newFakeStore(), jobs: &fakeJobs{}, sender: &scripted{}, clock: &fakeClock{now: fixtureTime},
		reg: prometheus.NewPedanticRegistry()}
	o := Opts{
		NodeID: "d1", Region: "local", Registerer: w.reg,
		FanOutQueue: idleQueue{}, WebhookQueue: idleQueue{}, AlertQueue: idleQueue{}, WPCOMQueue: idleQueue{},
		Jobs: w.jobs, Backlog: fixedBacklog{}, DeadLetters: idleDeadLetters{},
		Destinations: w.store, FanOuts: w.store, Dispatch: w.store, Lookup: w.store, DeadLetterDB: w.store,
		DecodeTransition: decodeTestTransition, DecodeJob: decodeTestJob,
		Webhooks: w.sender, Alerts: map[uptime.AlertTransport]AlertSender{uptime.TransportEmail: w.sender},
		WPCOM: w.sender, RetrySchedule: []time.Duration{time.Minute, 5 * time.Minute},
		SendTimeout: time.Second, Now: w.clock.Now,
	}
	if mod != nil {
		mod(&o)
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.d = d
	return w
}
