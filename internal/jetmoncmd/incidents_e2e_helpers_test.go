package jetmoncmd

import (
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The end-to-end incident tests' world (issue 5 item 10): nodes wired as
// the role commands wire them (by the shared harness of testnode_test.go),
// on a fresh MariaDB database, in-process NATS and a testsite fleet (plain
// and TLS). The assertions on rows are in incidents_e2e_rows_test.go.

// Timings of the test's mesh beyond the shared ones: a re-check delay
// after a failure wide enough to see Seems Down before the confirmation.
const (
	e2eRecheck     = 2 * time.Second
	e2eNumOfChecks = 3 // NUM_OF_CHECKS (the default)
	e2eBuckets     = 4
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
	testWorld
	nc    *nats.Conn // the test's own connection, for watching subjects
	js    jetstream.JetStream
	fleet *testsite.Fleet
}

func newE2EWorld(t *testing.T) *e2eWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	nc := ns.Conn(t)
	env := map[string]string{
		"TIME_BETWEEN_CHECKS_SEC": strconv.Itoa(int(e2eRecheck / time.Second)),
		"NUM_OF_CHECKS":           strconv.Itoa(e2eNumOfChecks),
	}
	return &e2eWorld{testWorld: newTestWorld(t, ns.URL(), slog.LevelInfo, checkingEnv(e2eBuckets), env),
		nc: nc, js: newJS(t, nc), fleet: startFleet(t, true)}
}

// addSite inserts an active site on the plain listener, checked every
// MIN_CHECK_INTERVAL.
func (w *e2eWorld) addSite(blog int64, bucket int) {
	w.t.Helper()
	w.addActiveSite(blog, bucket, w.fleet.URL(siteName(blog)), 0)
}

// setSite switches the fleet's behaviour of blog's site.
func (w *e2eWorld) setSite(blog int64, b testsite.Behaviour) {
	w.t.Helper()
	if err := w.fleet.Set(siteName(blog), b); err != nil {
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

// startAgents starts prober p1 of region a and verifliers vb and vc of
// regions b and c, with the extra config of each kind, and returns the
// prober.
func (w *e2eWorld) startAgents(prober, verifier map[string]string) *testNode {
	w.t.Helper()
	p := w.start(cli.AddProber, "p1", "a", prober)
	w.start(cli.AddVeriflier, "vb", "b", verifier)
	w.start(cli.AddVeriflier, "vc", "c", verifier)
	return p
}

// sourceAddr is the config of an agent checking from addr.
func sourceAddr(addr string) map[string]string { return map[string]string{"SOURCE_ADDR": addr} }

// waitLeads waits until n leads the mesh.
func (w *e2eWorld) waitLeads(n *testNode) {
	w.t.Helper()
	n.waitMetric(w.t, n.id+" leads", 1, "jetmon_coordinator_leader")
}

// waitMesh waits until leader sees verifliers of verifliers regions and
// blog has been checked, and checks that blog runs.
func (w *e2eWorld) waitMesh(leader *testNode, blog int64, verifliers int) {
	w.t.Helper()
	waitFor(w.t, stepBudget, fmt.Sprintf("the leader sees %d verifliers and the site is checked", verifliers), func() error {
		n, err := leader.metric("jetmon_mesh_nodes", "role", uptime.RoleVeriflier)
		if err != nil {
			return err
		}
		if int(n) != verifliers {
			return fmt.Errorf("%v veriflier nodes", n)
		}
		return w.siteChecked(blog)
	})
	if got := w.siteStatus(blog); got != 1 {
		w.t.Fatalf("site_status = %d before the outage, want 1", got)
	}
}

// e2eReceive waits for the first message of ch that match accepts.
func e2eReceive(t *testing.T, ch <-chan *nats.Msg, what string, match func(*nats.Msg) bool) *nats.Msg {
	t.Helper()
	deadline := time.NewTimer(stepBudget)
	defer deadline.Stop()
	for {
		select {
		case m := <-ch:
			if match(m) {
				return m
			}
		case <-deadline.C:
			t.Fatalf("%s: not within %v", what, stepBudget)
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		}
	}
}
