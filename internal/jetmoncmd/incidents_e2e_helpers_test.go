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
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The end-to-end incident tests' world (issue 5 item 10): nodes wired as
// the role commands wire them, on a fresh MariaDB database, in-process NATS
// and a testsite fleet (plain and TLS). These helpers are the incident e2e
// files' own (prefixed e2e), so they do not depend on the mesh tests'
// helpers. The assertions on rows are in incidents_e2e_rows_test.go.

// Timings of the test's mesh: validation minimums, and a re-check delay
// after a failure wide enough to see Seems Down before the confirmation.
const (
	e2eTTL           = 2 * time.Second
	e2eCheckInterval = 5 * time.Second
	e2eRecheck       = 2 * time.Second
	e2eCheckTimeout  = 3 * time.Second // NET_COMMS_TIMEOUT: probers' and verifliers' check timeout
	e2eNumOfChecks   = 3               // NUM_OF_CHECKS (the default)
	e2eBuckets       = 4
	e2eStop          = 10 * time.Second
	e2ePoll          = 50 * time.Millisecond
	e2eBudget        = 30 * time.Second // one step under -race on a loaded 2-core box
)

// Source addresses of the region-scoped tests (all of 127.0.0.0/8 is
// loopback on Linux): the prober checks from e2eProberAddr, the verifliers
// from e2eVeriflierAddr, so that testsite's by_client can fail one of them.
const (
	e2eProberAddr    = "127.0.0.2"
	e2eVeriflierAddr = "127.0.0.1"
)

// e2eWorld is the test's database, NATS, fleet and nodes.
type e2eWorld struct {
	t       *testing.T
	db      *sql.DB
	dsn     string
	natsURL string
	nc      *nats.Conn // the test's own connection, for watching subjects
	js      jetstream.JetStream
	fleet   *testsite.Fleet
}

func newE2EWorld(t *testing.T) *e2eWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	db, dsn := testenv.NewDatabase(t)
	nc := ns.Conn(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", CADir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	return &e2eWorld{t: t, db: db, dsn: dsn, natsURL: ns.URL(), nc: nc, js: js, fleet: fleet}
}

func e2eSiteName(blog int64) string { return "site-" + strconv.FormatInt(blog, 10) }

// addSite inserts an active site on the plain listener, checked every
// MIN_CHECK_INTERVAL.
func (w *e2eWorld) addSite(blog int64, bucket int) {
	w.t.Helper()
	w.addSiteURL(blog, bucket, w.fleet.URL(e2eSiteName(blog)))
}

// addSiteURL inserts an active site checked at url every MIN_CHECK_INTERVAL.
func (w *e2eWorld) addSiteURL(blog int64, bucket int, url string) {
	w.t.Helper()
	_, err := w.db.ExecContext(w.t.Context(), `INSERT INTO jetpack_monitor_sites
		(blog_id, bucket_no, monitor_url, monitor_active, check_interval) VALUES (?, ?, ?, 1, 0)`,
		blog, bucket, url)
	if err != nil {
		w.t.Fatalf("insert site %d: %v", blog, err)
	}
}

// setSite switches the fleet's behaviour of blog's site.
func (w *e2eWorld) setSite(blog int64, b testsite.Behaviour) {
	w.t.Helper()
	if err := w.fleet.Set(e2eSiteName(blog), b); err != nil {
		w.t.Fatal(err)
	}
}

// watch subscribes to subject (a wildcard is fine) on the test's own
// connection until the test ends; the channel holds what was published.
func (w *e2eWorld) watch(subject string) <-chan *nats.Msg {
	w.t.Helper()
	ch := make(chan *nats.Msg, 256)
	sub, err := w.nc.ChanSubscribe(subject, ch)
	if err != nil {
		w.t.Fatalf("subscribe %s: %v", subject, err)
	}
	if err := w.nc.Flush(); err != nil {
		w.t.Fatalf("subscribe %s: %v", subject, err)
	}
	w.t.Cleanup(func() { _ = sub.Unsubscribe() })
	return ch
}

// e2eNode is one in-process node running one role.
type e2eNode struct {
	id     string
	nc     *nats.Conn
	rt     *cli.Runtime
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
	killed bool // the parts' errors are expected
}

// start wires role as node id of region with the test timings, extra
// overriding them (keys without JETMON_), and runs it until the test ends.
func (w *e2eWorld) start(add cli.AddFunc, id, region string, extra map[string]string) *e2eNode {
	t := w.t
	t.Helper()
	cfg := w.config(id, region, extra)
	logger := e2eLogger(t).With("node_id", id)
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
	n := &e2eNode{id: id, nc: nc, rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- cli.RunGroup(ctx, map[string]cli.Runner{"ops": rt.Ops, "node": cn}) }()
	t.Cleanup(func() {
		if err := n.wait(); err != nil && (!n.killed || errors.Is(err, errE2EStuck)) {
			t.Errorf("node %s: %v", id, err)
		}
	})
	return n
}

// errE2EStuck means a node's parts did not return within e2eStop.
var errE2EStuck = errors.New("node did not stop in time")

// wait stops the node (once) and returns what its parts returned.
func (n *e2eNode) wait() error {
	n.once.Do(func() {
		n.cancel()
		select {
		case n.err = <-n.done:
		case <-time.After(e2eStop):
			n.err = errE2EStuck
		}
	})
	return n.err
}

// kill makes the node die without goodbyes, like a crashed process: its
// NATS connection closes first, so no resign, presence delete, result or
// vote of it reaches the mesh any more, then its parts stop.
func (n *e2eNode) kill(t *testing.T) {
	t.Helper()
	n.killed = true
	n.nc.Close()
	if err := n.wait(); errors.Is(err, errE2EStuck) {
		t.Fatalf("kill %s: %v", n.id, err)
	}
}

// config is the node's config from env-style overrides.
func (w *e2eWorld) config(id, region string, extra map[string]string) config.Config {
	w.t.Helper()
	env := map[string]string{
		"DB_DSN": w.dsn, "NATS_URL": w.natsURL, "NODE_ID": id, "REGION": region, "OPS_ADDR": "127.0.0.1:0",
		"NODE_TTL_SEC": strconv.Itoa(int(e2eTTL / time.Second)), "LEADER_TTL_SEC": strconv.Itoa(int(e2eTTL / time.Second)),
		"SITE_SYNC_INTERVAL_SEC": "1", "MIN_CHECK_INTERVAL_SEC": strconv.Itoa(int(e2eCheckInterval / time.Second)),
		"TIME_BETWEEN_CHECKS_SEC": strconv.Itoa(int(e2eRecheck / time.Second)), "SHUTDOWN_TIMEOUT_SEC": "2",
		"NET_COMMS_TIMEOUT": strconv.Itoa(int(e2eCheckTimeout / time.Second)), "BUCKET_TOTAL": strconv.Itoa(e2eBuckets),
		"NUM_OF_CHECKS": strconv.Itoa(e2eNumOfChecks),
	}
	maps.Copy(env, extra)
	cfg, err := config.Load("", func(k string) string { return env[strings.TrimPrefix(k, config.EnvPrefix)] })
	if err != nil {
		w.t.Fatalf("config of %s: %v", id, err)
	}
	return cfg
}

// metric sums the samples (gauges and counters) of family name whose
// labels include every name/value pair of labels.
func (n *e2eNode) metric(name string, labels ...string) (float64, error) {
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

// waitLeads waits until n leads the mesh.
func (w *e2eWorld) waitLeads(n *e2eNode) {
	w.t.Helper()
	e2eWait(w.t, e2eBudget, n.id+" leads", func() error {
		v, err := n.metric("jetmon_coordinator_leader")
		if err == nil && v != 1 {
			err = fmt.Errorf("jetmon_coordinator_leader %v", v)
		}
		return err
	})
}

// waitMesh waits until leader sees verifliers of verifliers regions and
// blog has been checked, and checks that blog runs.
func (w *e2eWorld) waitMesh(leader *e2eNode, blog int64, verifliers int) {
	w.t.Helper()
	e2eWait(w.t, e2eBudget, fmt.Sprintf("the leader sees %d verifliers and the site is checked", verifliers), func() error {
		n, err := leader.metric("jetmon_mesh_nodes", "role", uptime.RoleVeriflier)
		if err != nil {
			return err
		}
		if int(n) != verifliers {
			return fmt.Errorf("%v veriflier nodes", n)
		}
		return w.checked(blog)
	})
	if got := w.siteStatus(blog); got != 1 {
		w.t.Fatalf("site_status = %d before the outage, want 1", got)
	}
}

// e2eLogger writes to t.Log until the test's cleanups ran.
func e2eLogger(t *testing.T) *slog.Logger {
	w := &e2eLogWriter{t: t}
	t.Cleanup(w.close) // registered before the nodes' cleanups, so it runs after them
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type e2eLogWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *e2eLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *e2eLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// e2eWait polls cond until it returns nil; its last error explains a timeout.
func e2eWait(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(e2ePoll):
		}
	}
}

// e2eReceive waits for the first message of ch that match accepts.
func e2eReceive(t *testing.T, ch <-chan *nats.Msg, what string, match func(*nats.Msg) bool) *nats.Msg {
	t.Helper()
	deadline := time.NewTimer(e2eBudget)
	defer deadline.Stop()
	for {
		select {
		case m := <-ch:
			if match(m) {
				return m
			}
		case <-deadline.C:
			t.Fatalf("%s: not within %v", what, e2eBudget)
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		}
	}
}
