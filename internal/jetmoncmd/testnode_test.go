package jetmoncmd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

// The integration tests' shared harness: a world of a fresh database and a
// NATS server, in-process nodes each running one role as `jetmon <role>`
// wires it from a config built from env-style overrides, a t.Log-backed
// logger, waits with a deadline, metric readers and row helpers. Each
// family (mesh, incidents e2e, delivery, API) embeds testWorld in a world
// of its own for what is specific to it.

// Timings every family shares: the validation minimums where the tests
// wait on them, and the tests' own budgets.
const (
	testNodeTTL       = 2 * time.Second
	testLeaderTTL     = 2 * time.Second
	testCheckInterval = 5 * time.Second  // MIN_CHECK_INTERVAL_SEC; sites use check_interval 0
	testCheckTimeout  = 3 * time.Second  // NET_COMMS_TIMEOUT: probers' and verifliers' check timeout
	stopTimeout       = 10 * time.Second // a node's drain (SHUTDOWN_TIMEOUT_SEC 2) with room for -race
	stepBudget        = 30 * time.Second // one mesh step under -race on a loaded 2-core box
	pollInterval      = 25 * time.Millisecond
)

// testWorld is what every family's world holds: a fresh database, the
// NATS server (or cluster) the nodes connect to, the family's config
// overrides and the nodes' logger.
type testWorld struct {
	t       testing.TB
	db      *sql.DB           // root: fixtures and checks
	dsn     string            // root's DSN of the test database
	natsURL string            // comma-separated for a cluster
	env     map[string]string // the family's config overrides of every node
	logger  *slog.Logger      // of every node, with its node_id: the test's log at level unless replaced
}

// newTestWorld creates a fresh database for nodes on natsURL, configured
// by the layers of env (later layers win) over the shared overrides.
func newTestWorld(t testing.TB, natsURL string, level slog.Level, env ...map[string]string) testWorld {
	t.Helper()
	db, dsn := testenv.NewDatabase(t)
	// The logger's cleanup is registered before any node's, so it runs
	// after them: it stops writing once the nodes have stopped.
	return testWorld{t: t, db: db, dsn: dsn, natsURL: natsURL, env: mergeEnv(env...), logger: testLogger(t, level)}
}

// mergeEnv merges env-style layers, later layers winning.
func mergeEnv(layers ...map[string]string) map[string]string {
	env := map[string]string{}
	for _, l := range layers {
		maps.Copy(env, l)
	}
	return env
}

// loadConfig loads a config from env-style overrides (keys without
// JETMON_, later layers winning), as `jetmon <role>` would from its
// environment.
func loadConfig(t testing.TB, layers ...map[string]string) config.Config {
	t.Helper()
	env := mergeEnv(layers...)
	cfg, err := config.Load("", func(k string) string { return env[strings.TrimPrefix(k, config.EnvPrefix)] })
	if err != nil {
		t.Fatalf("config of %s: %v", env["NODE_ID"], err)
	}
	return cfg
}

// checkingEnv is the config of a mesh that checks sites: a site sync every
// second, checks every MIN_CHECK_INTERVAL, a re-check 1 s after a failure,
// and buckets buckets.
func checkingEnv(buckets int) map[string]string {
	return map[string]string{
		"SITE_SYNC_INTERVAL_SEC":  "1",
		"MIN_CHECK_INTERVAL_SEC":  strconv.Itoa(int(testCheckInterval / time.Second)),
		"TIME_BETWEEN_CHECKS_SEC": "1",
		"BUCKET_TOTAL":            strconv.Itoa(buckets),
	}
}

// nodeConfig is node id's config in region: the shared overrides, the
// world's, then extra.
func (w *testWorld) nodeConfig(id, region string, extra map[string]string) config.Config {
	w.t.Helper()
	return loadConfig(w.t, map[string]string{
		"DB_DSN":               w.dsn,
		"NATS_URL":             w.natsURL,
		"NODE_ID":              id,
		"REGION":               region,
		"OPS_ADDR":             "127.0.0.1:0",
		"NODE_TTL_SEC":         strconv.Itoa(int(testNodeTTL / time.Second)),
		"LEADER_TTL_SEC":       strconv.Itoa(int(testLeaderTTL / time.Second)),
		"SHUTDOWN_TIMEOUT_SEC": "2",
		"NET_COMMS_TIMEOUT":    strconv.Itoa(int(testCheckTimeout / time.Second)),
	}, w.env, extra)
}

// testNode is one in-process node running one role: a runtime, a NATS
// connection and a cli.Node.
type testNode struct {
	id     string
	nc     *nats.Conn
	rt     *cli.Runtime
	cn     *cli.Node
	cancel context.CancelFunc // of a started node
	done   chan error
	once   sync.Once
	err    error // what the parts returned, or errNodeStuck
	killed bool  // the parts' errors are expected
}

// errNodeStuck means a node's parts did not return within stopTimeout.
var errNodeStuck = errors.New("node did not stop in time")

// start wires add as node id of region with extra over the world's config,
// and runs it with its ops server until it is stopped, killed or the test
// ends; the test fails unless it then drains cleanly in time.
func (w *testWorld) start(add cli.AddFunc, id, region string, extra map[string]string) *testNode {
	t := w.t
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	n := w.wire(ctx, add, w.nodeConfig(id, region, extra))
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- cli.RunGroup(ctx, map[string]cli.Runner{"ops": n.rt.Ops, "node": n.cn}) }()
	t.Cleanup(func() {
		if err := n.wait(); err != nil && (!n.killed || errors.Is(err, errNodeStuck)) {
			t.Errorf("node %s at test end: %v", id, err)
		}
	})
	return n
}

// wire builds a node of cfg (a runtime with its ops listener bound, a NATS
// connection and a cli.Node) and wires add on ctx (nil: no role). It does
// not run the node: start does, or the caller aborts it.
func (w *testWorld) wire(ctx context.Context, add cli.AddFunc, cfg config.Config) *testNode {
	t := w.t
	t.Helper()
	id := cfg.NodeID
	logger := w.logger.With("node_id", id)
	rt, err := cli.RuntimeFor(ctx, cfg, logger, "test", id)
	if err != nil {
		t.Fatalf("runtime %s: %v", id, err)
	}
	nc, err := cli.ConnectNATS(cfg, id, logger)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	cn, err := cli.NewNode(nc, cfg.ShutdownTimeout)
	if err != nil {
		nc.Close()
		t.Fatalf("node %s: %v", id, err)
	}
	if add != nil {
		if err := add(ctx, rt, cn); err != nil {
			cn.Abort()
			t.Fatalf("wire %s: %v", id, err)
		}
	}
	return &testNode{id: id, nc: nc, rt: rt, cn: cn}
}

// stop stops the started node gracefully and fails the test unless it
// drains cleanly in time; stopping again does nothing more.
func (n *testNode) stop(t testing.TB) {
	t.Helper()
	if err := n.wait(); err != nil {
		t.Fatalf("stop %s: %v", n.id, err)
	}
}

// kill makes the started node die without goodbyes, like a crashed
// process: its NATS connection closes first, so no resign, presence
// delete, result or vote of it reaches the mesh any more, then its parts
// stop. Their errors are expected and dropped.
func (n *testNode) kill(t testing.TB) {
	t.Helper()
	n.killed = true
	n.nc.Close()
	if err := n.wait(); errors.Is(err, errNodeStuck) {
		t.Fatalf("kill %s: %v", n.id, err)
	}
}

// wait stops the started node (once) and returns what its parts returned.
func (n *testNode) wait() error {
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

// gauge reads an unlabelled gauge from the node's registry; an error when
// the registry has no such gauge.
func (n *testNode) gauge(name string) (float64, error) {
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

// metric sums the samples (gauges and counters) of family name on the
// node's registry whose labels include every name/value pair of labels (0
// when there are none).
func (n *testNode) metric(name string, labels ...string) (float64, error) {
	families, err := n.rt.Registry.Gather()
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return sum, nil
}

// waitMetric waits until the node's metric name (summed over the series
// with labels) is want.
func (n *testNode) waitMetric(t testing.TB, what string, want float64, name string, labels ...string) {
	t.Helper()
	waitFor(t, stepBudget, what, func() error {
		v, err := n.metric(name, labels...)
		if err == nil && v != want {
			err = fmt.Errorf("%s %v = %v", name, labels, v)
		}
		return err
	})
}

// hasLabels reports whether m has every name/value pair of pairs.
func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == pairs[i] && l.GetValue() == pairs[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

// testLogger writes to t.Log at level and above until the test's cleanups
// ran up to its own; lines logged later by lingering goroutines are
// dropped.
func testLogger(t testing.TB, level slog.Level) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testLogWriter is testLogger's sink.
type testLogWriter struct {
	mu     sync.Mutex
	t      testing.TB
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

// waitFor polls cond every pollInterval until it returns nil and returns
// how long that took; cond's last error explains a timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() error) time.Duration {
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

// runUntilEnd runs run until the test ends and fails the test unless it
// then returns cleanly.
func runUntilEnd(t testing.TB, what string, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// startFleet runs a testsite fleet on a random loopback port (and a TLS
// one when tls) until the test ends.
func startFleet(t testing.TB, tls bool) *testsite.Fleet {
	t.Helper()
	opts := testsite.Opts{Addr: "127.0.0.1:0", CADir: t.TempDir()}
	if tls {
		opts.TLSAddr = "127.0.0.1:0"
	}
	fleet, err := testsite.New(opts)
	if err != nil {
		t.Fatalf("testsite: %v", err)
	}
	runUntilEnd(t, "testsite", fleet.Run)
	if err := fleet.WaitReady(t.Context()); err != nil {
		t.Fatalf("testsite: %v", err)
	}
	return fleet
}

// siteName is blog's site name on a fleet.
func siteName(blog int64) string { return "site-" + strconv.FormatInt(blog, 10) }

// newJS is a JetStream context on nc.
func newJS(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

// streamState is the state of stream name.
func streamState(ctx context.Context, js jetstream.JetStream, name string) (jetstream.StreamState, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, err
	}
	return info.State, nil
}
