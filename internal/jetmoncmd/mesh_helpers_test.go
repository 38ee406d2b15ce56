package jetmoncmd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Mesh timings of the integration tests: the validation minimums where the
// tests wait on them.
const (
	testNodeTTL       = 2 * time.Second
	testLeaderTTL     = 2 * time.Second
	testCheckInterval = 5 * time.Second // MIN_CHECK_INTERVAL_SEC; sites use check_interval 0
	testBucketTotal   = 30
	stopTimeout       = 10 * time.Second // a node's drain (SHUTDOWN_TIMEOUT_SEC 2) with room for -race
	pollInterval      = 50 * time.Millisecond
)

// testRollout is the rollout range of testBucketTotal buckets.
var testRollout = uptime.BucketRange{Min: 0, Max: testBucketTotal - 1}

// mesh is one test's world: a fresh database, a NATS server or cluster (at
// natsURL), a site fleet, and a client connection of the test's own.
type mesh struct {
	t       *testing.T
	db      *sql.DB
	dsn     string
	natsURL string // comma-separated for a cluster
	nc      *nats.Conn
	js      jetstream.JetStream
	fleet   *testsite.Fleet
}

// newMesh starts a single-node NATS server for the test.
func newMesh(t *testing.T) *mesh {
	t.Helper()
	ns := testenv.StartNATS(t)
	return newMeshOn(t, ns.URL(), ns.Conn(t))
}

// newMeshOn builds the test's world on an already started NATS.
func newMeshOn(t *testing.T, natsURL string, nc *nats.Conn) *mesh {
	t.Helper()
	db, dsn := testenv.NewDatabase(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return &mesh{t: t, db: db, dsn: dsn, natsURL: natsURL, nc: nc, js: js, fleet: startFleet(t)}
}

// startFleet runs a testsite fleet on a random loopback port until the test ends.
func startFleet(t *testing.T) *testsite.Fleet {
	t.Helper()
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", CADir: t.TempDir()})
	if err != nil {
		t.Fatalf("testsite: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fleet.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("testsite: %v", err)
		}
	})
	if err := fleet.WaitReady(t.Context()); err != nil {
		t.Fatalf("testsite: %v", err)
	}
	return fleet
}

// addSite inserts an active site of blogID in bucket, checked every
// MIN_CHECK_INTERVAL (check_interval 0), pointing at the fleet.
func (m *mesh) addSite(blogID int64, bucket int) {
	m.t.Helper()
	_, err := m.db.ExecContext(m.t.Context(),
		`INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active, check_interval)
		 VALUES (?, ?, ?, 1, 0)`, blogID, bucket, m.fleet.URL("site-"+strconv.FormatInt(blogID, 10)))
	if err != nil {
		m.t.Fatalf("insert site %d: %v", blogID, err)
	}
}

// addSites inserts blog ids 1..n, blog i in bucket (i-1) mod testBucketTotal,
// and returns their buckets by blog id.
func (m *mesh) addSites(n int) map[int64]int {
	m.t.Helper()
	buckets := make(map[int64]int, n)
	for i := range n {
		blogID, bucket := int64(i+1), i%testBucketTotal
		m.addSite(blogID, bucket)
		buckets[blogID] = bucket
	}
	return buckets
}

// node is one in-process mesh node: a runtime, a NATS connection and one
// role, run until stopped, killed or the test ends.
type node struct {
	id     string
	nc     *nats.Conn
	rt     *cli.Runtime
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error // what the parts returned, or errNodeStuck
	killed bool  // the parts' errors are expected
}

// errNodeStuck means a node's parts did not return within stopTimeout.
var errNodeStuck = errors.New("node did not stop in time")

// start wires role (addCoordinator, cli.AddProber) as node id in region
// with the test timings, extra overriding them (keys without JETMON_), and
// runs it with its ops server.
func (m *mesh) start(add cli.AddFunc, id, region string, extra map[string]string) *node {
	t := m.t
	t.Helper()
	cfg := m.config(id, region, extra)
	logger := testLogger(t).With("node_id", id)
	ctx, cancel := context.WithCancel(t.Context())
	rt, err := cli.RuntimeFor(ctx, cfg, logger, "test", id)
	if err != nil {
		cancel()
		t.Fatalf("runtime %s: %v", id, err)
	}
	nc, err := cli.ConnectNATS(cfg, id, logger)
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", id, err)
	}
	cn, err := cli.NewNode(nc, cfg.ShutdownTimeout)
	if err != nil {
		cancel()
		nc.Close()
		t.Fatalf("node %s: %v", id, err)
	}
	if err := add(ctx, rt, cn); err != nil {
		cancel()
		cn.Abort()
		t.Fatalf("wire %s: %v", id, err)
	}
	n := &node{id: id, nc: nc, rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- cli.RunGroup(ctx, map[string]cli.Runner{"ops": rt.Ops, "node": cn}) }()
	t.Cleanup(func() {
		if err := n.wait(); err != nil && (!n.killed || errors.Is(err, errNodeStuck)) {
			t.Errorf("node %s at test end: %v", id, err)
		}
	})
	return n
}

// config loads the node's config from env-style overrides, as
// `jetmon <role>` would from its environment.
func (m *mesh) config(id, region string, extra map[string]string) config.Config {
	m.t.Helper()
	env := map[string]string{
		"DB_DSN":                     m.dsn,
		"NATS_URL":                   m.natsURL,
		"NODE_ID":                    id,
		"REGION":                     region,
		"OPS_ADDR":                   "127.0.0.1:0",
		"NODE_TTL_SEC":               strconv.Itoa(int(testNodeTTL / time.Second)),
		"LEADER_TTL_SEC":             strconv.Itoa(int(testLeaderTTL / time.Second)),
		"SITE_SYNC_INTERVAL_SEC":     "1",
		"MIN_CHECK_INTERVAL_SEC":     strconv.Itoa(int(testCheckInterval / time.Second)),
		"TIME_BETWEEN_CHECKS_SEC":    "1",
		"SHUTDOWN_TIMEOUT_SEC":       "2",
		"NET_COMMS_TIMEOUT":          "3",
		"BUCKET_TOTAL":               strconv.Itoa(testBucketTotal),
		"HISTORY_SUCCESS_SAMPLE_SEC": "1", // every success at a 5 s interval is a history row
	}
	maps.Copy(env, extra)
	cfg, err := config.Load("", func(k string) string { return env[strings.TrimPrefix(k, config.EnvPrefix)] })
	if err != nil {
		m.t.Fatalf("config of %s: %v", id, err)
	}
	return cfg
}

// stop stops the node gracefully and fails the test unless it drains
// cleanly in time.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.cancel()
	if err := n.wait(); err != nil {
		t.Fatalf("stop %s: %v", n.id, err)
	}
}

// kill makes the node die without goodbyes: its NATS connection closes
// first, so no resign or presence delete reaches the mesh, then its parts
// stop. Their errors are expected and dropped.
func (n *node) kill(t *testing.T) {
	t.Helper()
	n.killed = true
	n.nc.Close()
	n.cancel()
	if err := n.wait(); errors.Is(err, errNodeStuck) {
		t.Fatalf("kill %s: %v", n.id, err)
	}
}

// wait waits (once) for the node's parts to return after its cancel.
func (n *node) wait() error {
	n.once.Do(func() {
		n.cancel()
		select {
		case n.err = <-n.done:
		case <-time.After(stopTimeout):
			n.err = errNodeStuck
		}
	})
	return n.err
}

// testLogger writes to t.Log until the node's cleanup has run; lines
// logged later by lingering goroutines are dropped.
func testLogger(t *testing.T) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(w.close) // registered before the nodes' cleanups, so it runs after them
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testLogWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// waitFor polls cond until it returns nil and returns how long that took;
// cond's last error explains a timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(pollInterval):
		}
	}
}

// assignments lists JETMON_ASSIGNMENTS.
func (m *mesh) assignments() (map[string]uptime.Assignment, error) {
	a, err := bus.NewAssignments(m.js, bus.AssignmentsOpts{})
	if err != nil {
		return nil, err
	}
	return a.List(m.t.Context())
}

// coveredBy checks that exactly the probers ids hold assignments and that
// they cover every bucket of the rollout range exactly once.
func coveredBy(as map[string]uptime.Assignment, ids ...string) error {
	if got := slices.Sorted(maps.Keys(as)); !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
		return fmt.Errorf("assignments of %v, want %v", got, ids)
	}
	owners := make([]int, testRollout.Len())
	for id, a := range as {
		for _, b := range a.Buckets() {
			if !testRollout.Contains(b) {
				return fmt.Errorf("%s owns bucket %d outside %v", id, b, testRollout)
			}
			owners[b-testRollout.Min]++
		}
	}
	for i, n := range owners {
		if n != 1 {
			return fmt.Errorf("bucket %d has %d owners: %v", testRollout.Min+i, n, as)
		}
	}
	return nil
}

// watermark is the coordinator consumer's committed stream sequence (0
// before the first commit).
func (m *mesh) watermark() (uint64, error) {
	var seq uint64
	err := m.db.QueryRowContext(m.t.Context(),
		"SELECT last_seq FROM jetmon_ingest_progress WHERE consumer = ?", bus.ConsumerCoordinator).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// checks sums the roll-ups' checks by blog id.
func (m *mesh) checks() (map[int64]int64, error) {
	rows, err := m.db.QueryContext(m.t.Context(),
		"SELECT blog_id, SUM(checks) FROM jetmon_check_rollups_hourly GROUP BY blog_id")
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// lastChecked is each site's last_checked_at (sites never checked are left out).
func (m *mesh) lastChecked() (map[int64]time.Time, error) {
	rows, err := m.db.QueryContext(m.t.Context(),
		"SELECT blog_id, last_checked_at FROM jetpack_monitor_sites WHERE last_checked_at IS NOT NULL")
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		out[id] = at
	}
	return out, rows.Err()
}

// fence reads the fencing row: the newest leader's epoch and node id.
func (m *mesh) fence() (epoch uint64, holder string, err error) {
	err = m.db.QueryRowContext(m.t.Context(),
		"SELECT epoch, holder FROM jetmon_coordinator_lease WHERE name = 'coordinator'").Scan(&epoch, &holder)
	return epoch, holder, err
}

// waitLeader waits until id holds the fencing row with an epoch above
// after, and returns that epoch.
func (m *mesh) waitLeader(timeout time.Duration, id string, after uint64) uint64 {
	m.t.Helper()
	var epoch uint64
	waitFor(m.t, timeout, id+" leads", func() error {
		e, holder, err := m.fence()
		if err != nil {
			return err
		}
		if holder != id || e <= after {
			return fmt.Errorf("fence held by %s at epoch %d", holder, e)
		}
		epoch = e
		return nil
	})
	return epoch
}

// results is the state of stream JETMON_RESULTS.
func (m *mesh) results() (jetstream.StreamState, error) {
	s, err := m.js.Stream(m.t.Context(), bus.StreamResults)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	info, err := s.Info(m.t.Context())
	if err != nil {
		return jetstream.StreamState{}, err
	}
	return info.State, nil
}

// waitWatermark waits until the ingest watermark reaches seq.
func (m *mesh) waitWatermark(timeout time.Duration, seq uint64) time.Duration {
	m.t.Helper()
	return waitFor(m.t, timeout, fmt.Sprintf("results committed up to seq %d", seq), func() error {
		wm, err := m.watermark()
		if err == nil && wm < seq {
			err = fmt.Errorf("watermark %d", wm)
		}
		return err
	})
}

// gauge reads an unlabelled gauge from the node's registry.
func (n *node) gauge(name string) (float64, error) {
	families, err := n.rt.Registry.Gather()
	if err != nil {
		return 0, err
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue(), nil
		}
	}
	return 0, fmt.Errorf("%s: no gauge %s", n.id, name)
}

// ackPending is how many results the coordinator consumer has delivered
// and not yet had acked.
func (m *mesh) ackPending() (int, error) {
	cons, err := m.js.Consumer(m.t.Context(), bus.StreamResults, bus.ConsumerCoordinator)
	if err != nil {
		return 0, err
	}
	info, err := cons.Info(m.t.Context())
	if err != nil {
		return 0, err
	}
	return info.NumAckPending, nil
}

// repeatedResults reads the whole results stream and returns, by
// Nats-Msg-Id, the checks it holds more than once with their sequences.
func (m *mesh) repeatedResults() (map[string][]uint64, error) {
	cons, err := m.js.OrderedConsumer(m.t.Context(), bus.StreamResults, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	state, err := m.results()
	if err != nil {
		return nil, err
	}
	seen := map[string][]uint64{}
	for range state.Msgs {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return nil, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return nil, err
		}
		r, err := bus.DecodeResult(msg.Data())
		if err != nil {
			return nil, err
		}
		id := bus.ResultMsgID(r.NodeID, r.BlogID, r.CheckedAt.UnixNano())
		seen[id] = append(seen[id], md.Sequence.Stream)
	}
	maps.DeleteFunc(seen, func(_ string, s []uint64) bool { return len(s) < 2 })
	return seen, nil
}
