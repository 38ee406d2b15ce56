package jetmoncmd

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

// End-to-end incident test (issue 5 item 10): a coordinator, a prober of
// region "a" and verifliers of regions "b" and "c", wired as the role
// commands wire them, on a fresh MariaDB database, in-process NATS and a
// testsite fleet. The node helpers are this file's own (prefixed e2e) so it
// does not depend on the mesh tests' helpers.

// Timings of the test's mesh: validation minimums, and a re-check delay
// after a failure wide enough to see Seems Down before the confirmation.
const (
	e2eTTL           = 2 * time.Second
	e2eCheckInterval = 5 * time.Second
	e2eRecheck       = 2 * time.Second
	e2eBuckets       = 4
	e2eStop          = 10 * time.Second
	e2ePoll          = 50 * time.Millisecond
	e2eBudget        = 30 * time.Second // one step under -race on a loaded 2-core box
)

func TestIncidentsEndToEnd(t *testing.T) {
	t.Parallel()
	w := newE2EWorld(t)
	const blog = 1
	w.addSite(blog, 0)
	coord := w.start(addCoordinator, "c1", "a")
	w.start(cli.AddProber, "p1", "a")
	w.start(cli.AddVeriflier, "vb", "b")
	w.start(cli.AddVeriflier, "vc", "c")
	e2eWait(t, e2eBudget, "the leader sees verifliers of b and c and the site is checked", func() error {
		n, err := coord.gaugeSum("jetmon_mesh_nodes", "role", uptime.RoleVeriflier)
		if err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("%v veriflier nodes", n)
		}
		return w.checked(blog)
	})
	if got := w.siteStatus(blog); got != 1 {
		t.Fatalf("site_status = %d before the outage, want 1", got)
	}

	if err := w.fleet.Set(e2eSiteName(blog), testsite.Behaviour{Kind: testsite.KindStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	w.waitStep(blog, 0, []string{"opened"})
	w.wantEvent(blog, uptime.StateSeemsDown, "")
	w.wantFirstFailureStart(blog)

	w.waitStep(blog, 2, []string{"opened", "verifier_confirmed"})
	w.wantEvent(blog, uptime.StateDown, "")
	w.wantVotes(blog, "b", "c")

	if err := w.fleet.Set(e2eSiteName(blog), testsite.Behaviour{}); err != nil {
		t.Fatal(err)
	}
	w.waitStep(blog, 1, []string{"opened", "verifier_confirmed", "verifier_cleared"})
	w.wantEvent(blog, uptime.StateDown, uptime.ReasonVerifierCleared)
	w.wantDelivered(blog)
}

// e2eWorld is the test's database, NATS, fleet and nodes.
type e2eWorld struct {
	t       *testing.T
	db      *sql.DB
	dsn     string
	natsURL string
	js      jetstream.JetStream
	fleet   *testsite.Fleet
}

func newE2EWorld(t *testing.T) *e2eWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	db, dsn := testenv.NewDatabase(t)
	js, err := jetstream.New(ns.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", CADir: t.TempDir()})
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
	return &e2eWorld{t: t, db: db, dsn: dsn, natsURL: ns.URL(), js: js, fleet: fleet}
}

func e2eSiteName(blog int64) string { return "site-" + strconv.FormatInt(blog, 10) }

// addSite inserts an active site checked every MIN_CHECK_INTERVAL.
func (w *e2eWorld) addSite(blog int64, bucket int) {
	w.t.Helper()
	_, err := w.db.ExecContext(w.t.Context(), `INSERT INTO jetpack_monitor_sites
		(blog_id, bucket_no, monitor_url, monitor_active, check_interval) VALUES (?, ?, ?, 1, 0)`,
		blog, bucket, w.fleet.URL(e2eSiteName(blog)))
	if err != nil {
		w.t.Fatalf("insert site %d: %v", blog, err)
	}
}

// e2eNode is one in-process node running one role.
type e2eNode struct {
	id     string
	rt     *cli.Runtime
	cancel context.CancelFunc
	done   chan error
}

// start wires role as node id of region and runs it until the test ends.
func (w *e2eWorld) start(add cli.AddFunc, id, region string) *e2eNode {
	t := w.t
	t.Helper()
	cfg := w.config(id, region)
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
	n := &e2eNode{id: id, rt: rt, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- cli.RunGroup(ctx, map[string]cli.Runner{"ops": rt.Ops, "node": cn}) }()
	t.Cleanup(func() {
		n.cancel()
		select {
		case err := <-n.done:
			if err != nil {
				t.Errorf("node %s: %v", id, err)
			}
		case <-time.After(e2eStop):
			t.Errorf("node %s did not stop in time", id)
		}
	})
	return n
}

// config is the node's config from env-style overrides.
func (w *e2eWorld) config(id, region string) config.Config {
	w.t.Helper()
	env := map[string]string{
		"DB_DSN": w.dsn, "NATS_URL": w.natsURL, "NODE_ID": id, "REGION": region, "OPS_ADDR": "127.0.0.1:0",
		"NODE_TTL_SEC": strconv.Itoa(int(e2eTTL / time.Second)), "LEADER_TTL_SEC": strconv.Itoa(int(e2eTTL / time.Second)),
		"SITE_SYNC_INTERVAL_SEC": "1", "MIN_CHECK_INTERVAL_SEC": strconv.Itoa(int(e2eCheckInterval / time.Second)),
		"TIME_BETWEEN_CHECKS_SEC": strconv.Itoa(int(e2eRecheck / time.Second)), "SHUTDOWN_TIMEOUT_SEC": "2",
		"NET_COMMS_TIMEOUT": "3", "BUCKET_TOTAL": strconv.Itoa(e2eBuckets),
	}
	cfg, err := config.Load("", func(k string) string { return env[strings.TrimPrefix(k, config.EnvPrefix)] })
	if err != nil {
		w.t.Fatalf("config of %s: %v", id, err)
	}
	return cfg
}

// gaugeSum sums the samples of gauge name whose label has value.
func (n *e2eNode) gaugeSum(name, label, value string) (float64, error) {
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
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetGauge().GetValue()
				}
			}
		}
	}
	return sum, nil
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

// e2eTransition is one jetmon_event_transitions row.
type e2eTransition struct {
	id, eventID             int64
	reason, source          string
	stateBefore, stateAfter sql.NullString
	sevBefore, sevAfter     sql.NullInt64
	metadata                []byte
}

// transitions lists blog's transition rows in id order.
func (w *e2eWorld) transitions(blog int64) ([]e2eTransition, error) {
	rows, err := w.db.QueryContext(w.t.Context(), `SELECT id, event_id, reason, source, state_before, state_after,
		severity_before, severity_after, metadata FROM jetmon_event_transitions WHERE blog_id = ? ORDER BY id`, blog)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []e2eTransition
	for rows.Next() {
		var tr e2eTransition
		if err := rows.Scan(&tr.id, &tr.eventID, &tr.reason, &tr.source, &tr.stateBefore, &tr.stateAfter,
			&tr.sevBefore, &tr.sevAfter, &tr.metadata); err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, rows.Err()
}

// checked reports nil once blog has a last_checked_at.
func (w *e2eWorld) checked(blog int64) error {
	var at sql.NullTime
	err := w.db.QueryRowContext(w.t.Context(),
		"SELECT last_checked_at FROM jetpack_monitor_sites WHERE blog_id = ?", blog).Scan(&at)
	if err == nil && !at.Valid {
		err = errors.New("not checked yet")
	}
	return err
}

// siteStatus is blog's legacy projection.
func (w *e2eWorld) siteStatus(blog int64) int {
	w.t.Helper()
	var status int
	if err := w.db.QueryRowContext(w.t.Context(),
		"SELECT site_status FROM jetpack_monitor_sites WHERE blog_id = ?", blog).Scan(&status); err != nil {
		w.t.Fatal(err)
	}
	return status
}

// e2eRow is what a transition row of a reason must hold.
type e2eRow struct {
	before, after       string // "" for NULL
	sevBefore, sevAfter int64  // -1 for NULL
	source              string
}

func e2eRows() map[string]e2eRow {
	return map[string]e2eRow{
		"opened":             {"", "Seems Down", -1, 3, "local"},
		"verifier_confirmed": {"Seems Down", "Down", 3, 4, "verifier"},
		"verifier_cleared":   {"Down", "Resolved", 4, -1, "local"},
	}
}

// waitStep waits until blog's transitions have exactly reasons and its
// site_status is status, then checks every row.
func (w *e2eWorld) waitStep(blog int64, status int, reasons []string) {
	w.t.Helper()
	var trs []e2eTransition
	e2eWait(w.t, e2eBudget, fmt.Sprintf("transitions %v and site_status %d", reasons, status), func() error {
		var err error
		if trs, err = w.transitions(blog); err != nil {
			return err
		}
		got := make([]string, len(trs))
		for i, tr := range trs {
			got[i] = tr.reason
		}
		if s := w.siteStatus(blog); !slices.Equal(got, reasons) || s != status {
			return fmt.Errorf("transitions %v, site_status %d", got, s)
		}
		return nil
	})
	for _, tr := range trs {
		want := e2eRows()[tr.reason]
		got := e2eRow{tr.stateBefore.String, tr.stateAfter.String, -1, -1, tr.source}
		if tr.sevBefore.Valid {
			got.sevBefore = tr.sevBefore.Int64
		}
		if tr.sevAfter.Valid {
			got.sevAfter = tr.sevAfter.Int64
		}
		if got != want || tr.eventID != trs[0].eventID {
			w.t.Errorf("%s row %+v (event %d), want %+v of event %d", tr.reason, got, tr.eventID, want, trs[0].eventID)
		}
	}
}

// wantEvent checks blog's only event: its state, and its resolution ("":
// still open).
func (w *e2eWorld) wantEvent(blog int64, state uptime.State, resolution uptime.Reason) {
	w.t.Helper()
	var (
		n        int
		st, res  sql.NullString
		endedSet bool
	)
	err := w.db.QueryRowContext(w.t.Context(), `SELECT COUNT(*), MAX(state), MAX(resolution_reason),
		MAX(ended_at IS NOT NULL) FROM jetmon_events WHERE blog_id = ?`, blog).Scan(&n, &st, &res, &endedSet)
	if err != nil {
		w.t.Fatal(err)
	}
	if n != 1 || st.String != string(state) || res.String != string(resolution) || endedSet != (resolution != "") {
		w.t.Errorf("events: %d, state %q, resolution %q, ended %v; want 1, %q, %q", n, st.String, res.String,
			endedSet, state, resolution)
	}
}

// wantFirstFailureStart checks that the event started at the first failed
// check (the oldest failure in the check history), frozen.
func (w *e2eWorld) wantFirstFailureStart(blog int64) {
	w.t.Helper()
	var started, firstFailure time.Time
	err := w.db.QueryRowContext(w.t.Context(), `SELECT e.started_at,
		(SELECT MIN(h.checked_at) FROM jetmon_check_history h WHERE h.blog_id = e.blog_id AND h.success = 0)
		FROM jetmon_events e WHERE e.blog_id = ?`, blog).Scan(&started, &firstFailure)
	if err != nil {
		w.t.Fatal(err)
	}
	if !started.Equal(firstFailure) {
		w.t.Errorf("event started_at %v, want the first failed check's %v", started, firstFailure)
	}
}

// wantVotes checks the confirmation's votes in its transition metadata.
func (w *e2eWorld) wantVotes(blog int64, regions ...string) {
	w.t.Helper()
	trs, err := w.transitions(blog)
	if err != nil {
		w.t.Fatal(err)
	}
	var meta struct {
		Votes []struct {
			Region string `json:"region"`
			Up     bool   `json:"up"`
		} `json:"votes"`
	}
	if err := json.Unmarshal(trs[len(trs)-1].metadata, &meta); err != nil {
		w.t.Fatal(err)
	}
	var got []string
	for _, v := range meta.Votes {
		if !v.Up {
			got = append(got, v.Region)
		}
	}
	if slices.Sort(got); !slices.Equal(got, regions) {
		w.t.Errorf("confirming votes from %v, want %v", got, regions)
	}
}

// wantDelivered checks that JETMON_DELIVERY holds one transition message per
// transition row of blog, in order, with its Nats-Msg-Id, once the relay
// has emptied the outbox.
func (w *e2eWorld) wantDelivered(blog int64) {
	w.t.Helper()
	ctx := w.t.Context()
	e2eWait(w.t, e2eBudget, "outbox drained", func() error {
		var n int
		if err := w.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM jetmon_outbox").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
	trs, err := w.transitions(blog)
	if err != nil {
		w.t.Fatal(err)
	}
	stream, err := w.js.Stream(ctx, bus.StreamDelivery)
	if err != nil {
		w.t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	var got []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			w.t.Fatalf("get delivery %d: %v", seq, err)
		}
		m, err := bus.DecodeTransitionMessage(msg.Data)
		if err != nil {
			w.t.Fatalf("delivery %d: %v", seq, err)
		}
		if msg.Subject != bus.SubjectDeliverTransition || msg.Header.Get(nats.MsgIdHdr) != bus.TransitionMsgID(m.Transition.ID) {
			w.t.Errorf("delivery %d on %s with id %q", seq, msg.Subject, msg.Header.Get(nats.MsgIdHdr))
		}
		if m.Site.Spec.URL != w.fleet.URL(e2eSiteName(blog)) || m.Event.BlogID != blog {
			w.t.Errorf("delivery %d site %+v", seq, m.Site)
		}
		got = append(got, fmt.Sprintf("%d:%s:%d", m.Transition.ID, m.Transition.Reason, len(m.Votes)))
	}
	var want []string
	for _, tr := range trs {
		votes := 0
		if tr.reason == string(uptime.ReasonVerifierConfirmed) {
			votes = 2
		}
		want = append(want, fmt.Sprintf("%d:%s:%d", tr.id, tr.reason, votes))
	}
	if !slices.Equal(got, want) {
		w.t.Errorf("deliveries (id:reason:votes) %v, want %v", got, want)
	}
}
