package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// In-memory fakes of the coordinator's own ports. They are safe for
// concurrent use and block only on their ctx, so synctest can tell when the
// coordinator is idle.

var errBoom = errors.New("boom")

type fakes struct {
	elector  *fakeElector
	fence    *fakeFence
	dir      *fakeDirectory
	assign   *fakeAssignments
	mirror   *fakeMirror
	source   *fakeSource
	results  *fakeResults
	ingest   *fakeIngest
	commands *fakeCommands

	events    *fakeEvents
	incidents *fakeIncidents
	publisher *fakePublisher
	verifier  *fakeVerifier
	prober    *fakeProber
	drift     *fakeDrift
}

func newFakes() *fakes {
	fence := &fakeFence{}
	events := newFakeEvents()
	return &fakes{
		elector:  &fakeElector{terms: make(chan *fakeTerm)},
		fence:    fence,
		dir:      &fakeDirectory{nodes: map[string][]uptime.Node{}, changed: make(chan struct{})},
		assign:   &fakeAssignments{kv: map[string]uptime.Assignment{}},
		mirror:   &fakeMirror{kv: map[SiteKey]uptime.Site{}},
		source:   &fakeSource{rows: map[int64]SiteChange{}},
		results:  &fakeResults{batches: make(chan Batch)},
		ingest:   &fakeIngest{watermark: map[string]uint64{}, fence: fence, events: events},
		commands: &fakeCommands{},

		events:    events,
		incidents: &fakeIncidents{events: events, fence: fence},
		publisher: &fakePublisher{},
		verifier:  &fakeVerifier{},
		prober:    &fakeProber{},
		drift:     &fakeDrift{},
	}
}

// testRange is the rollout range of the tests.
var testRange = uptime.BucketRange{Min: 0, Max: 99}

// newTestCoordinator builds a coordinator over f; mod adjusts the options.
func newTestCoordinator(t *testing.T, f *fakes, mod func(*Opts)) *Coordinator {
	t.Helper()
	opts := Opts{
		NodeID: "coord-1", Region: "eu", Registerer: prometheus.NewPedanticRegistry(),
		Elector: f.elector, Fence: f.fence, Directory: f.dir, Assignments: f.assign,
		SiteMirror: f.mirror, SiteSource: f.source, Results: f.results, Ingest: f.ingest,
		Commands: f.commands, RolloutRange: testRange,
		Verifier: f.verifier, Incidents: f.incidents, Outbox: fakeOutbox{f.events}, Publisher: f.publisher,
		Prober: f.prober, Drift: f.drift, Events: f.events, VerifyWorkers: 4,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// advance moves synctest's fake clock by d and waits until every goroutine
// of the bubble is blocked again.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// runLoop starts loop in the bubble and returns a stop function that cancels
// it and returns its error.
func runLoop(t *testing.T, loop func(ctx context.Context) error) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- loop(ctx) }()
	synctest.Wait()
	return func() error {
		cancel()
		return <-done
	}
}

type fakeElector struct {
	terms     chan *fakeTerm
	campaigns atomic.Int32
}

func (e *fakeElector) Campaign(ctx context.Context) (Term, error) {
	e.campaigns.Add(1)
	select {
	case t := <-e.terms:
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type fakeTerm struct {
	epoch      uint64
	lost       chan struct{}
	resigned   chan struct{}
	resignOnce sync.Once
	deadline   atomic.Pointer[time.Time] // of the resign's ctx
}

func newTerm(epoch uint64) *fakeTerm {
	return &fakeTerm{epoch: epoch, lost: make(chan struct{}), resigned: make(chan struct{})}
}

func (t *fakeTerm) Epoch() uint64         { return t.epoch }
func (t *fakeTerm) Lost() <-chan struct{} { return t.lost }
func (t *fakeTerm) lose()                 { close(t.lost) }

func (t *fakeTerm) Resign(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		t.deadline.Store(&dl)
	}
	t.resignOnce.Do(func() { close(t.resigned) })
	return nil
}

func (t *fakeTerm) wasResigned() bool {
	select {
	case <-t.resigned:
		return true
	default:
		return false
	}
}

type fakeFence struct {
	mu     sync.Mutex
	epoch  uint64
	holder string
	errs   []error // returned (in order) before Advance works
}

func (f *fakeFence) Advance(_ context.Context, epoch uint64, holder string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	if epoch < f.epoch {
		return fmt.Errorf("lease row at %d: %w", f.epoch, ErrFenced)
	}
	f.epoch, f.holder = epoch, holder
	return nil
}

func (f *fakeFence) current() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.epoch
}

// raise simulates a newer leader advancing the row.
func (f *fakeFence) raise(epoch uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch = epoch
}

type fakeDirectory struct {
	mu      sync.Mutex
	nodes   map[string][]uptime.Node
	changed chan struct{} // closed and replaced on every set
}

func (d *fakeDirectory) set(role string, nodes ...uptime.Node) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nodes[role] = nodes
	close(d.changed)
	d.changed = make(chan struct{})
}

// WatchNodes sends the latest snapshot now and after every set.
func (d *fakeDirectory) WatchNodes(ctx context.Context, role string) (<-chan []uptime.Node, error) {
	out := make(chan []uptime.Node)
	go func() {
		defer close(out)
		for {
			d.mu.Lock()
			snap, changed := slices.Clone(d.nodes[role]), d.changed
			d.mu.Unlock()
			select {
			case out <- snap:
			case <-ctx.Done():
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func prober(id, region string, capacity int) uptime.Node {
	return uptime.Node{Role: uptime.RoleProber, NodeID: id, Region: region, Capacity: capacity}
}

type fakeAssignments struct {
	mu      sync.Mutex
	kv      map[string]uptime.Assignment
	puts    []uptime.Assignment
	deletes []string
	fail    int // Put fails this many more times
}

func (a *fakeAssignments) List(context.Context) (map[string]uptime.Assignment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.kv), nil
}

func (a *fakeAssignments) Put(_ context.Context, as uptime.Assignment) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail > 0 {
		a.fail--
		return errBoom
	}
	a.kv[as.NodeID] = as
	a.puts = append(a.puts, as)
	return nil
}

func (a *fakeAssignments) Delete(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.kv, id)
	a.deletes = append(a.deletes, id)
	return nil
}

// snapshot returns the stored assignments and how many puts and deletes
// have happened.
func (a *fakeAssignments) snapshot() (map[string]uptime.Assignment, int, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.kv), len(a.puts), slices.Clone(a.deletes)
}

type fakeMirror struct {
	mu      sync.Mutex
	kv      map[SiteKey]uptime.Site
	puts    int
	deletes int
	failPut int64 // Put of this blog id fails
}

func (m *fakeMirror) Keys(context.Context) ([]SiteKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.SortedFunc(maps.Keys(m.kv), func(a, b SiteKey) int {
		return cmp.Or(cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.BlogID, b.BlogID))
	}), nil
}

func (m *fakeMirror) Put(_ context.Context, s uptime.Site) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.BlogID == m.failPut {
		return errBoom
	}
	m.kv[SiteKey{Bucket: s.Bucket, BlogID: s.BlogID}] = s
	m.puts++
	return nil
}

func (m *fakeMirror) Delete(_ context.Context, k SiteKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.kv, k)
	m.deletes++
	return nil
}

// state returns the mirrored keys and the put and delete counts.
func (m *fakeMirror) state() ([]SiteKey, int, int) {
	keys, _ := m.Keys(context.Background())
	m.mu.Lock()
	defer m.mu.Unlock()
	return keys, m.puts, m.deletes
}

type fakeSource struct {
	mu        sync.Mutex
	rows      map[int64]SiteChange
	lastAlert map[int64]time.Time // last_alert_sent_at by blog
	failSites int                 // Sites fails this many more times
	lookups   atomic.Int32
}

func (s *fakeSource) set(blogID int64, bucket int, url string, active bool, updated time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[blogID] = SiteChange{Active: active, Site: uptime.Site{
		BlogID: blogID, Bucket: bucket, CheckInterval: time.Minute, UpdatedAt: updated,
		Spec: uptime.CheckSpec{BlogID: blogID, URL: url},
	}}
}

func (s *fakeSource) ActiveSites(_ context.Context, r uptime.BucketRange) ([]uptime.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uptime.Site
	for _, id := range slices.Sorted(maps.Keys(s.rows)) {
		if row := s.rows[id]; row.Active && r.Contains(row.Site.Bucket) {
			out = append(out, row.Site)
		}
	}
	return out, nil
}

func (s *fakeSource) Sites(_ context.Context, ids []int64) ([]SiteRecord, error) {
	s.lookups.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failSites > 0 {
		s.failSites--
		return nil, errBoom
	}
	var out []SiteRecord
	for _, id := range ids {
		if row, ok := s.rows[id]; ok {
			out = append(out, SiteRecord{Site: row.Site, Active: row.Active, LastAlertSentAt: s.lastAlert[id]})
		}
	}
	return out, nil
}

func (s *fakeSource) ChangedSince(_ context.Context, since time.Time) ([]SiteChange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SiteChange
	for _, row := range s.rows {
		if !row.Site.UpdatedAt.Before(since) {
			out = append(out, row)
		}
	}
	slices.SortFunc(out, func(a, b SiteChange) int {
		return cmp.Or(a.Site.UpdatedAt.Compare(b.Site.UpdatedAt), cmp.Compare(a.Site.BlogID, b.Site.BlogID))
	})
	return out, nil
}

type fakeResults struct {
	batches  chan Batch
	rewinds  atomic.Int32
	failNext atomic.Bool // the next Fetch fails
}

func (r *fakeResults) Rewind(context.Context) error {
	r.rewinds.Add(1)
	return nil
}

func (r *fakeResults) Fetch(ctx context.Context, _ int, wait time.Duration) (Batch, error) {
	if r.failNext.Swap(false) {
		return Batch{}, errBoom
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case b := <-r.batches:
		return b, nil
	case <-t.C:
		return Batch{}, nil
	case <-ctx.Done():
		return Batch{}, ctx.Err()
	}
}

// sentBatch records what the coordinator did with one delivered batch.
type sentBatch struct {
	acked   chan struct{}
	ackOnce sync.Once
	extends atomic.Int32
}

func (s *sentBatch) wasAcked() bool {
	select {
	case <-s.acked:
		return true
	default:
		return false
	}
}

// deliver hands a batch to the next Fetch; it blocks until fetched.
func (r *fakeResults) deliver(ds ...Delivery) *sentBatch {
	s := &sentBatch{acked: make(chan struct{})}
	r.batches <- Batch{
		Deliveries: ds,
		Ack: func(context.Context) error {
			s.ackOnce.Do(func() { close(s.acked) })
			return nil
		},
		Extend: func() error {
			s.extends.Add(1)
			return nil
		},
	}
	return s
}

type fakeIngest struct {
	mu        sync.Mutex
	watermark map[string]uint64
	commits   []IngestBatch
	attempts  []IngestBatch // every Commit call, failed ones included
	events    *fakeEvents
	errs      []error // returned (in order) before Commit works
	lostReply bool    // the next Commit commits, then reports an error (a lost reply)
	fence     *fakeFence
}

func (s *fakeIngest) Watermark(_ context.Context, consumer string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watermark[consumer], nil
}

func (s *fakeIngest) Commit(_ context.Context, epoch uint64, b IngestBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, b)
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return err
	}
	if cur := s.fence.current(); cur != epoch {
		return fmt.Errorf("lease row at %d: %w", cur, ErrFenced)
	}
	if s.watermark[b.Consumer] != b.FromSeq {
		return fmt.Errorf("watermark %d, batch from %d", s.watermark[b.Consumer], b.FromSeq)
	}
	if err := s.events.commit(b.Incidents); err != nil {
		return err
	}
	s.watermark[b.Consumer] = b.ToSeq
	s.commits = append(s.commits, b)
	if s.lostReply {
		s.lostReply = false
		return errBoom
	}
	return nil
}

func (s *fakeIngest) attempted() []IngestBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

func (s *fakeIngest) committed() []IngestBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commits)
}

type fakeCommands struct {
	mu       sync.Mutex
	handlers map[string]CommandHandler
	serves   int
}

func (s *fakeCommands) ServeCommands(ctx context.Context, h map[string]CommandHandler) error {
	s.mu.Lock()
	s.handlers = h
	s.serves++
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	s.handlers = nil
	s.mu.Unlock()
	return nil
}

// handler returns the served handler of verb, nil when not serving.
func (s *fakeCommands) handler(verb string) CommandHandler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handlers[verb]
}
