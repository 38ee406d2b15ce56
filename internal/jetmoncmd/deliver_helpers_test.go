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

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Delivery integration tests (issue 6 item 9): deliverers wired as `jetmon
// deliverer` wires them, on a fresh MariaDB database, in-process NATS and
// httptest receivers. The helpers are this file's own (prefixed dlv).

const (
	dlvAckWait = 2 * time.Second  // the delivery consumers' AckWait in these tests
	dlvStop    = 10 * time.Second // a node's drain, with room for -race
	dlvPoll    = 25 * time.Millisecond
	dlvBudget  = 30 * time.Second // one step under -race on a loaded 2-core box
	dlvSecret  = "whsec_testsecret0123456789"
)

// dlvWorld is one test's database, NATS and nodes.
type dlvWorld struct {
	t       testing.TB
	db      *sql.DB
	dsn     string
	natsURL string
	js      jetstream.JetStream
	env     map[string]string // config overrides of every node
	logger  *slog.Logger      // of every node: the test's log unless quiet
}

// newDlvWorld starts NATS and a database and creates the mesh's streams
// with a short delivery AckWait (no coordinator runs EnsureAssets here).
func newDlvWorld(t testing.TB, env map[string]string) *dlvWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	db, dsn := testenv.NewDatabase(t)
	js, err := jetstream.New(ns.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureAssets(t.Context(), js, bus.AssetOpts{DeliveryAckWait: dlvAckWait, NodeTTL: 2 * time.Second,
		LeaderTTL: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return &dlvWorld{t: t, db: db, dsn: dsn, natsURL: ns.URL(), js: js, env: env, logger: dlvLogger(t)}
}

// dlvNode is one in-process node.
type dlvNode struct {
	id     string
	node   *cli.Node
	nc     *nats.Conn
	rt     *cli.Runtime
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
	killed bool
}

// start wires add as node id (region "a") with the world's config and runs
// it until stopped, killed or the test ends.
func (w *dlvWorld) start(id string, add cli.AddFunc) *dlvNode {
	t := w.t
	t.Helper()
	cfg := w.config(id)
	logger := w.logger.With("node_id", id)
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
	node, err := cli.NewNode(nc, cfg.ShutdownTimeout)
	if err != nil {
		cancel()
		nc.Close()
		t.Fatal(err)
	}
	if err := add(ctx, rt, node); err != nil {
		cancel()
		node.Abort()
		t.Fatalf("wire %s: %v", id, err)
	}
	n := &dlvNode{id: id, node: node, nc: nc, rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- cli.RunGroup(ctx, map[string]cli.Runner{"ops": rt.Ops, "node": node}) }()
	t.Cleanup(func() {
		if err := n.wait(); err != nil && (!n.killed || errors.Is(err, errDlvStuck)) {
			t.Errorf("node %s at test end: %v", id, err)
		}
	})
	return n
}

var errDlvStuck = errors.New("node did not stop in time")

func (w *dlvWorld) config(id string) config.Config {
	w.t.Helper()
	env := map[string]string{
		"DB_DSN": w.dsn, "NATS_URL": w.natsURL, "NODE_ID": id, "REGION": "a", "OPS_ADDR": "127.0.0.1:0",
		"NODE_TTL_SEC": "2", "LEADER_TTL_SEC": "2", "SHUTDOWN_TIMEOUT_SEC": "2", "NET_COMMS_TIMEOUT": "3",
		"DELIVERY_TIMEOUT_SEC": "2", "DELIVERY_WORKERS": "4", "RETRY_SCHEDULE": `["200ms","200ms"]`,
	}
	maps.Copy(env, w.env)
	cfg, err := config.Load("", func(k string) string { return env[strings.TrimPrefix(k, config.EnvPrefix)] })
	if err != nil {
		w.t.Fatalf("config of %s: %v", id, err)
	}
	return cfg
}

// kill makes the node die without goodbyes: its NATS connection closes
// first, then its parts stop; their errors are expected.
func (n *dlvNode) kill(t testing.TB) {
	t.Helper()
	n.killed = true
	n.nc.Close()
	n.cancel()
	if err := n.wait(); errors.Is(err, errDlvStuck) {
		t.Fatalf("kill %s: %v", n.id, err)
	}
}

// crash is kill without even a last write to MySQL: the node's pool is
// closed first, so whatever it held (a delivery's lease) stays as a dead
// process leaves it.
func (n *dlvNode) crash(t testing.TB) {
	t.Helper()
	if db, ok := n.node.Shared(dbKey); ok {
		_ = db.(*sql.DB).Close()
	}
	n.kill(t)
}

func (n *dlvNode) wait() error {
	n.once.Do(func() {
		n.cancel()
		select {
		case n.err = <-n.done:
		case <-time.After(dlvStop):
			n.err = errDlvStuck
		}
	})
	return n.err
}

// counter sums a counter family of the node's registry over the series
// whose labels include want.
func (n *dlvNode) counter(name string, want map[string]string) float64 {
	families, err := n.rt.Registry.Gather()
	if err != nil {
		return -1
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// dlvLogger writes to t.Log until the test's cleanups ran.
func dlvLogger(t testing.TB) *slog.Logger {
	w := &dlvLogWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type dlvLogWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *dlvLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *dlvLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// dlvWait polls cond until it returns nil; its last error explains a
// timeout.
func dlvWait(t testing.TB, timeout time.Duration, what string, cond func() error) {
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
		case <-time.After(dlvPoll):
		}
	}
}

// transition is a committed transition as the outbox relay would publish
// it: HTTP, of blog blogID, notified.
func dlvTransition(id, blogID int64, reason uptime.Reason, kind string) bus.TransitionMessage {
	down, seems := uptime.SeverityDown, uptime.SeveritySeemsDown
	now := time.Now().UTC()
	tr := uptime.Transition{ID: id, EventID: id, BlogID: blogID, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: &seems, SeverityAfter: &down, StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateDown,
		Reason: reason, Source: "local", ChangedAt: now,
		Notify: uptime.Notification{Notify: kind != "", Kind: kind}}
	ev := uptime.Event{ID: id, BlogID: blogID, CheckType: uptime.CheckTypeHTTP, Severity: down, State: uptime.StateDown,
		StartedAt: now.Add(-time.Minute), Metadata: map[string]any{"http_code": 503, "error_code": 0, "rtt_ms": 40,
			"region": "a", "checked_at": now.Add(-time.Minute).Format(time.RFC3339Nano)}}
	return bus.TransitionMessage{Transition: tr, Event: ev,
		Site: uptime.Site{BlogID: blogID, Bucket: 1, Spec: uptime.CheckSpec{BlogID: blogID, URL: "https://site-" + strconv.FormatInt(blogID, 10) + ".example"}}}
}

// publish stores m on jetmon.deliver.transition as the outbox relay does.
func (w *dlvWorld) publish(m bus.TransitionMessage) {
	w.t.Helper()
	b, err := bus.EncodeTransitionMessage(m)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := bus.NewTransitionPublisher(w.js)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := p.PublishTransition(w.t.Context(), m.Transition.ID, b); err != nil {
		w.t.Fatal(err)
	}
}

// addWebhook registers url for every event, signed with dlvSecret.
func (w *dlvWorld) addWebhook(url string) int64 {
	w.t.Helper()
	id, err := registerDemoWebhook(w.t.Context(), w.db, url, dlvSecret)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// deliveryState is one jetmon_deliveries row as the tests read it.
type deliveryState struct {
	id, destination, transition int64
	kind, status                string
	attempt, lastCode           int
}

func (w *dlvWorld) deliveries() ([]deliveryState, error) {
	rows, err := w.db.QueryContext(w.t.Context(), `SELECT id, kind, destination_id, transition_id, status, attempt,
		COALESCE(last_status_code, 0) FROM jetmon_deliveries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []deliveryState
	for rows.Next() {
		var d deliveryState
		if err := rows.Scan(&d.id, &d.kind, &d.destination, &d.transition, &d.status, &d.attempt, &d.lastCode); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// attempts lists delivery id's attempts as "outcome@node".
func (w *dlvWorld) attempts(id int64) []string {
	w.t.Helper()
	rows, err := w.db.QueryContext(w.t.Context(),
		"SELECT outcome, node_id FROM jetmon_delivery_attempts WHERE delivery_id = ? ORDER BY id", id)
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var o, n string
		if err := rows.Scan(&o, &n); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, o+"@"+n)
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// allSettled checks that want rows exist and none is pending.
func (w *dlvWorld) allSettled(want int) error {
	ds, err := w.deliveries()
	if err != nil {
		return err
	}
	if len(ds) != want {
		return fmt.Errorf("%d delivery rows, want %d", len(ds), want)
	}
	for _, d := range ds {
		if d.status == string(uptime.DeliveryPending) {
			return fmt.Errorf("delivery %d pending at attempt %d", d.id, d.attempt)
		}
	}
	return nil
}

// node is a bare node on a connection of its own (for wiring that needs
// one without running it), closed when the test ends.
func (w *dlvWorld) node(rt *cli.Runtime) *cli.Node {
	w.t.Helper()
	nc, err := cli.ConnectNATS(rt.Config, "test", rt.Logger)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(nc.Close)
	node, err := cli.NewNode(nc, rt.Config.ShutdownTimeout)
	if err != nil {
		w.t.Fatal(err)
	}
	return node
}
