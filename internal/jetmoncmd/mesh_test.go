package jetmoncmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// Integration tests of the mesh (issue 4 item 11): coordinators and probers
// wired as `jetmon coordinator` and `jetmon prober` wire them, on a fresh
// MariaDB database and in-process NATS per test.

// Budgets beyond the mesh's own timings: startup of the first leader, and
// scheduling slack on a loaded 2-core machine under -race.
const (
	startBudget = 15 * time.Second
	slack       = 3 * time.Second
)

// startProbers starts probers p1, p2 (region us) and p3 (region eu), each of
// capacity 1.
func (m *mesh) startProbers() map[string]*testNode {
	probers := map[string]*testNode{}
	for _, p := range []struct{ id, region string }{{"p1", "us"}, {"p2", "us"}, {"p3", "eu"}} {
		probers[p.id] = m.start(cli.AddProber, p.id, p.region, map[string]string{"CAPACITY": "1"})
	}
	return probers
}

// waitCovered waits until exactly the probers ids cover the rollout range.
func (m *mesh) waitCovered(timeout time.Duration, ids ...string) time.Duration {
	m.t.Helper()
	return waitFor(m.t, timeout, fmt.Sprintf("buckets covered by %v", ids), func() error {
		as, err := m.assignments()
		if err != nil {
			return err
		}
		return coveredBy(as, ids...)
	})
}

// waitChecked waits until every blog of blogs is ingested with a
// last_checked_at after since (and a roll-up with checks).
func (m *mesh) waitChecked(timeout time.Duration, blogs []int64, since time.Time) time.Duration {
	m.t.Helper()
	return waitFor(m.t, timeout, fmt.Sprintf("%d sites checked after %s", len(blogs), since.Format(time.TimeOnly)), func() error {
		checks, err := m.checks()
		if err != nil {
			return err
		}
		last, err := m.lastChecked()
		if err != nil {
			return err
		}
		var waiting []int64
		for _, id := range blogs {
			if checks[id] == 0 || !last[id].After(since) {
				waiting = append(waiting, id)
			}
		}
		if len(waiting) > 0 {
			return fmt.Errorf("not yet checked: %v", waiting)
		}
		return nil
	})
}

func TestMeshCoversEveryBucket(t *testing.T) {
	t.Parallel()
	m := newMesh(t)
	sites := m.addSites(testBucketTotal)
	// Not the default (30 s), so that the delivery consumers' ack wait
	// shows it was derived from the config.
	delivery := map[string]string{"DELIVERY_TIMEOUT_SEC": "7"}
	leader := m.start(addCoordinator, "c1", "us", delivery)
	m.waitLeader(startBudget, "c1", 0)
	standby := m.start(addCoordinator, "c2", "eu", delivery)
	m.startProbers()

	took := m.waitCovered(startBudget, "p1", "p2", "p3")
	t.Logf("3 probers cover %d buckets after %v", testBucketTotal, took)
	took = m.waitChecked(testCheckInterval+startBudget, slices.Sorted(maps.Keys(sites)), time.Time{})
	t.Logf("all %d sites checked after another %v", len(sites), took)

	if _, holder, err := m.fence(); err != nil || holder != "c1" {
		t.Errorf("fence holder %q (%v), want c1: the standby took over", holder, err)
	}
	m.wantDeliveryAckWait(14 * time.Second)
	for _, g := range []struct {
		n    *testNode
		name string
		want float64
	}{
		{leader, "jetmon_coordinator_leader", 1},
		{standby, "jetmon_coordinator_leader", 0},
		{leader, "jetmon_mesh_unassigned_buckets", 0},
	} {
		if v, err := g.n.gauge(g.name); err != nil || v != g.want {
			t.Errorf("%s %s = %v (%v), want %v", g.n.id, g.name, v, err, g.want)
		}
	}
}

func TestMeshProberDeathReassigns(t *testing.T) {
	t.Parallel()
	m := newMesh(t)
	sites := m.addSites(testBucketTotal)
	m.start(addCoordinator, "c1", "us", nil)
	m.waitLeader(startBudget, "c1", 0)
	probers := m.startProbers()
	m.waitCovered(startBudget, "p1", "p2", "p3")
	m.waitChecked(testCheckInterval+startBudget, slices.Sorted(maps.Keys(sites)), time.Time{})

	as, err := m.assignments()
	if err != nil {
		t.Fatal(err)
	}
	var orphans []int64
	for id, bucket := range sites {
		if as["p2"].Owns(bucket) {
			orphans = append(orphans, id)
		}
	}
	if len(orphans) == 0 {
		t.Fatalf("p2 owns no site: %v", as)
	}
	slices.Sort(orphans)

	killedAt := time.Now()
	probers["p2"].kill(t)
	m.waitCovered(testNodeTTL+2*time.Second-time.Since(killedAt), "p1", "p3")
	t.Logf("p2's buckets reassigned %v after its death", time.Since(killedAt))
	m.waitChecked(testNodeTTL+2*time.Second+testCheckInterval+slack-time.Since(killedAt), orphans, killedAt)
	t.Logf("p2's %d sites checked again %v after its death", len(orphans), time.Since(killedAt))
}

func TestMeshLeaderDeathNoLossNoDuplicates(t *testing.T) {
	t.Parallel()
	m := newMesh(t)
	m.addSites(testBucketTotal)
	c1 := m.start(addCoordinator, "c1", "us", nil)
	epoch := m.waitLeader(startBudget, "c1", 0)
	m.start(addCoordinator, "c2", "eu", nil)
	p1 := m.start(cli.AddProber, "p1", "us", nil)
	m.waitWatermark(startBudget+testCheckInterval, testBucketTotal)
	// The worst moment: c1 holds fetched results it has not acked.
	waitFor(t, testCheckInterval, "c1 holds unacked results", func() error {
		pending, err := m.ackPending()
		if err == nil && pending == 0 {
			err = errors.New("none pending")
		}
		return err
	})

	killedAt := time.Now()
	c1.kill(t)
	m.waitLeader(testLeaderTTL+slack-time.Since(killedAt), "c2", epoch)
	t.Logf("c2 leads %v after c1's death", time.Since(killedAt))
	state, err := m.results()
	if err != nil {
		t.Fatal(err)
	}
	m.waitWatermark(testCheckInterval+slack, state.LastSeq+1)

	p1.stop(t)
	n := m.waitDrained(2 * testCheckInterval)
	// With HISTORY_SUCCESS_SAMPLE_SEC 1 and a 5 s interval every result is
	// a history row: results arrive in check order on one NATS server.
	if history := m.assertIngestedOnce(n); history != n {
		t.Errorf("stream holds %d results, history %d rows", n, history)
	}
}

// waitDrained waits, once no prober publishes, until the leader has
// committed every result of the stream, and returns their number.
func (m *mesh) waitDrained(timeout time.Duration) uint64 {
	m.t.Helper()
	var state jetstream.StreamState
	waitFor(m.t, timeout, "every result committed", func() error {
		var err error
		if state, err = m.results(); err != nil {
			return err
		}
		wm, err := m.watermark()
		if err == nil && wm != state.LastSeq {
			err = fmt.Errorf("watermark %d, stream last seq %d", wm, state.LastSeq)
		}
		return err
	})
	if state.FirstSeq != 1 || state.Msgs != state.LastSeq {
		m.t.Fatalf("stream holds %d results in seq %d..%d: it lost some itself", state.Msgs, state.FirstSeq, state.LastSeq)
	}
	return state.Msgs
}

// assertIngestedOnce checks that each of the stream's n results was counted
// once in the roll-ups and kept at most once as a history row, and returns
// the number of history rows.
func (m *mesh) assertIngestedOnce(n uint64) (history uint64) {
	m.t.Helper()
	var rollups, repeated uint64
	ctx := m.t.Context()
	queries := []struct {
		dest  *uint64
		query string
	}{
		{&rollups, "SELECT COALESCE(SUM(checks), 0) FROM jetmon_check_rollups_hourly"},
		{&history, "SELECT COUNT(*) FROM jetmon_check_history"},
		{&repeated, `SELECT COUNT(*) FROM (SELECT blog_id FROM jetmon_check_history
			GROUP BY blog_id, checked_at, node_id HAVING COUNT(*) > 1) AS r`},
	}
	for _, q := range queries {
		if err := m.db.QueryRowContext(ctx, q.query).Scan(q.dest); err != nil {
			m.t.Fatalf("%s: %v", q.query, err)
		}
	}
	if rollups != n || history > n || repeated != 0 {
		m.t.Errorf("stream holds %d results; roll-ups count %d checks, history %d rows, %d checks repeated",
			n, rollups, history, repeated)
	}
	return history
}

func TestMeshSurvivesNATSNodeLoss(t *testing.T) {
	t.Parallel()
	cluster := testenv.StartCluster(t, 3)
	m := newMeshOn(t, strings.Join(cluster.URLs(), ","), cluster.Connect(t))
	m.addSites(testBucketTotal)
	replicas := map[string]string{"NATS_REPLICAS": "3"}
	m.start(addCoordinator, "c1", "us", replicas)
	m.waitLeader(2*startBudget, "c1", 0)
	p1 := m.start(cli.AddProber, "p1", "us", replicas)
	m.waitWatermark(startBudget+testCheckInterval, testBucketTotal)

	victim := -1
	waitFor(t, slack, "a leader of "+bus.StreamResults, func() error {
		if victim = cluster.StreamLeader(bus.StreamResults); victim < 0 {
			return errors.New("none")
		}
		return nil
	})
	cluster.Kill(victim)
	killedAt := time.Now()
	var last uint64
	waitFor(t, startBudget, bus.StreamResults+" answers without node "+fmt.Sprint(victim), func() error {
		state, err := m.results()
		last = state.LastSeq
		return err
	})
	m.waitWatermark(2*startBudget, last+testBucketTotal)
	t.Logf("node %d (the results stream leader) stopped; %d more results committed within %v",
		victim, testBucketTotal, time.Since(killedAt))
	p1.stop(t)
	// A result whose publish was retried across the failover may land
	// after a later check of its site: the history policy then rightly
	// skips it, so only the roll-ups count every result.
	m.assertIngestedOnce(m.waitDrained(2 * testCheckInterval))
	var again map[string][]uint64
	waitFor(t, startBudget, "read "+bus.StreamResults, func() error {
		var err error
		again, err = m.repeatedResults()
		return err
	})
	if len(again) > 0 {
		t.Errorf("checks the stream holds more than once (Nats-Msg-Id to seqs): %v", again)
	}
}

func TestMeshSiteSyncCommand(t *testing.T) {
	t.Parallel()
	m := newMesh(t)
	m.addSite(1, 0)
	// No periodic incremental sync during the test: only the command can
	// mirror what changes after the initial full sync.
	m.start(addCoordinator, "c1", "us", map[string]string{"SITE_SYNC_INTERVAL_SEC": "3600"})
	waitFor(t, startBudget, "the full sync mirrors site 1", func() error { return m.wantSiteKeys("0.1") })

	m.addSite(2, 7)
	if err := m.wantSiteKeys("0.1"); err != nil {
		t.Fatalf("before site.sync: %v", err)
	}
	m.siteSync(1)
	if err := m.wantSiteKeys("0.1", "7.2"); err != nil {
		t.Fatalf("after site.sync: %v", err)
	}
	if got, want := m.siteURL("7.2"), m.fleet.URL("site-2"); got != want {
		t.Errorf("mirrored url %q, want %q", got, want)
	}

	m.exec("UPDATE jetpack_monitor_sites SET monitor_active = 0 WHERE blog_id = 2")
	m.siteSync(1)
	if err := m.wantSiteKeys("0.1"); err != nil {
		t.Fatalf("after deactivation and site.sync: %v", err)
	}
}

// siteSync runs the site.sync command and checks its reply.
func (m *mesh) siteSync(wantSynced int) {
	m.t.Helper()
	client, err := bus.NewCommandClient(m.nc)
	if err != nil {
		m.t.Fatal(err)
	}
	var data []byte
	waitFor(m.t, slack, "site.sync answered", func() error {
		data, err = client.Call(m.t.Context(), bus.VerbSiteSync, []byte("{}"))
		if err != nil && !errors.Is(err, bus.ErrCoordinatorUnavailable) {
			m.t.Fatalf("site.sync: %v", err)
		}
		return err
	})
	var reply struct {
		OK     bool `json:"ok"`
		Synced int  `json:"synced"`
	}
	if err := json.Unmarshal(data, &reply); err != nil || !reply.OK || reply.Synced != wantSynced {
		m.t.Fatalf("site.sync replied %s (%v), want ok and %d synced", data, err, wantSynced)
	}
}

// wantSiteKeys checks that JETMON_SITES holds exactly keys.
func (m *mesh) wantSiteKeys(keys ...string) error {
	mirror, err := bus.NewSiteMirror(m.js)
	if err != nil {
		return err
	}
	refs, err := mirror.Keys(m.t.Context())
	if err != nil {
		return err
	}
	got := make([]string, len(refs))
	for i, r := range refs {
		got[i] = bus.SiteKey(r.Bucket, r.BlogID)
	}
	slices.Sort(got)
	if !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		return fmt.Errorf("site keys %v, want %v", got, keys)
	}
	return nil
}

// siteURL decodes the mirrored site under key and returns its URL.
func (m *mesh) siteURL(key string) string {
	m.t.Helper()
	kv, err := m.js.KeyValue(m.t.Context(), bus.KVSites)
	if err != nil {
		m.t.Fatal(err)
	}
	e, err := kv.Get(m.t.Context(), key)
	if err != nil {
		m.t.Fatalf("get %s: %v", key, err)
	}
	s, err := bus.DecodeSite(e.Value())
	if err != nil {
		m.t.Fatalf("decode %s: %v", key, err)
	}
	return s.Spec.URL
}
