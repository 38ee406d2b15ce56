package coordinator

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// checkStored asserts the stored assignments cover testRange once, carry
// epoch, and belong exactly to ids.
func checkStored(t *testing.T, stored map[string]uptime.Assignment, epoch uint64, ids ...string) {
	t.Helper()
	got := make(map[string][]uptime.BucketRange, len(stored))
	for id, a := range stored {
		if a.Epoch != epoch || a.NodeID != id {
			t.Errorf("assignment %s = %+v, want epoch %d", id, a, epoch)
		}
		got[id] = a.Ranges
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, ids) {
		t.Errorf("assigned nodes = %v, want %v", keys, ids)
	}
	for i, owner := range owners(t, testRange, got) {
		if owner == "" {
			t.Errorf("bucket %d unassigned", i)
		}
	}
}

func TestReconcileJoinAndLeave(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, nil)
		stop := runLoop(t, func(ctx context.Context) error { return c.runAssign(ctx, 7, &assignView{}) })
		if got := testutil.ToFloat64(c.m.unassigned); got != float64(testRange.Len()) {
			t.Errorf("unassigned = %v without probers, want %d", got, testRange.Len())
		}

		f.dir.set(uptime.RoleProber, prober("a", "eu", 1), prober("b", "us", 1))
		advance(assignDebounce)
		stored, puts, _ := f.assign.snapshot()
		checkStored(t, stored, 7, "a", "b")
		if puts != 2 || stored["b"].Region != "us" {
			t.Errorf("puts = %d, b = %+v", puts, stored["b"])
		}
		if got := testutil.ToFloat64(c.m.unassigned); got != 0 {
			t.Errorf("unassigned = %v, want 0", got)
		}

		f.dir.set(uptime.RoleProber, prober("a", "eu", 1), prober("b", "us", 1), prober("c", "us", 2))
		synctest.Wait()
		if _, p, _ := f.assign.snapshot(); p != puts {
			t.Fatal("rebalanced before the debounce")
		}
		advance(assignDebounce)
		stored, _, _ = f.assign.snapshot()
		checkStored(t, stored, 7, "a", "b", "c")
		if got := stored["c"].Ranges[0].Len(); got != 50 {
			t.Errorf("c (capacity 2 of 4) owns %d buckets, want 50", got)
		}

		f.dir.set(uptime.RoleProber, prober("b", "us", 1), prober("c", "us", 2))
		advance(assignDebounce)
		stored, _, deletes := f.assign.snapshot()
		checkStored(t, stored, 7, "b", "c")
		if !slices.Equal(deletes, []string{"a"}) {
			t.Errorf("deleted %v, want [a]", deletes)
		}

		f.dir.set(uptime.RoleProber)
		advance(assignDebounce)
		stored, _, _ = f.assign.snapshot()
		if len(stored) != 0 {
			t.Errorf("assignments without probers: %v", stored)
		}
		if got := testutil.ToFloat64(c.m.unassigned); got != float64(testRange.Len()) {
			t.Errorf("unassigned = %v without probers, want %d", got, testRange.Len())
		}
		if got := testutil.ToFloat64(c.m.assignChanges); got != 2+3+2+1+2 {
			t.Errorf("assignment changes = %v, want 10", got)
		}
		_ = stop()
	})
}

func TestReconcileTermStartStampsEpochAndDropsDeparted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		// The previous leader's layout, with a prober that has since died.
		prev := Assign(testRange, []Candidate{{NodeID: "a"}, {NodeID: "b"}, {NodeID: "dead"}}, nil)
		for id, ranges := range prev {
			f.assign.kv[id] = uptime.Assignment{NodeID: id, Region: "eu", Epoch: 3, Ranges: ranges}
		}
		f.dir.set(uptime.RoleProber, prober("a", "eu", 1), prober("b", "eu", 1))
		c := newTestCoordinator(t, f, nil)
		stop := runLoop(t, func(ctx context.Context) error { return c.runAssign(ctx, 8, &assignView{}) })

		stored, puts, deletes := f.assign.snapshot()
		checkStored(t, stored, 8, "a", "b")
		if puts != 2 || !slices.Equal(deletes, []string{"dead"}) {
			t.Errorf("puts = %d, deletes = %v; want 2, [dead]", puts, deletes)
		}
		// The survivors kept their order and absorbed the departed range.
		if want := Assign(testRange, []Candidate{{NodeID: "a"}, {NodeID: "b"}}, prev); !reflect.DeepEqual(stored["a"].Ranges, want["a"]) {
			t.Errorf("a = %v, want %v", stored["a"].Ranges, want["a"])
		}
		_ = stop()
	})
}

func TestReconcileUnchangedNotRewritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.dir.set(uptime.RoleProber, prober("a", "eu", 1))
		c := newTestCoordinator(t, f, nil)
		stop := runLoop(t, func(ctx context.Context) error { return c.runAssign(ctx, 2, &assignView{}) })
		_, puts, _ := f.assign.snapshot()

		changedStats := prober("a", "eu", 1)
		changedStats.Stats = map[string]int64{"sites": 10}
		f.dir.set(uptime.RoleProber, changedStats)
		advance(assignDebounce)
		if _, got, _ := f.assign.snapshot(); got != puts {
			t.Errorf("puts = %d after an unchanged snapshot, want %d", got, puts)
		}
		_ = stop()
	})
}

func TestReconcileRetriesFailedWrites(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.assign.fail = 2
		f.dir.set(uptime.RoleProber, prober("a", "eu", 1))
		c := newTestCoordinator(t, f, nil)
		stop := runLoop(t, func(ctx context.Context) error { return c.runAssign(ctx, 2, &assignView{}) })
		if stored, _, _ := f.assign.snapshot(); len(stored) != 0 {
			t.Fatalf("stored %v despite failing puts", stored)
		}
		advance(retryMin * 3)
		stored, _, _ := f.assign.snapshot()
		checkStored(t, stored, 2, "a")
		_ = stop()
	})
}

func TestNodesGauge(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		reg := prometheus.NewPedanticRegistry()
		c := newTestCoordinator(t, f, func(o *Opts) { o.Registerer = reg })
		f.dir.set(uptime.RoleProber, prober("a", "eu", 1), prober("b", "eu", 1), prober("c", "us", 1))
		f.dir.set(uptime.RoleVeriflier, uptime.Node{NodeID: "v", Region: "ap"})
		stop := startRun(t, c)
		f.elector.terms <- newTerm(1)
		synctest.Wait()
		f.dir.set(uptime.RoleProber, prober("a", "eu", 1)) // us loses its last prober
		synctest.Wait()

		want := `
# HELP jetmon_mesh_nodes Live mesh nodes by role and region, as the leader sees them.
# TYPE jetmon_mesh_nodes gauge
jetmon_mesh_nodes{region="ap",role="veriflier"} 1
jetmon_mesh_nodes{region="eu",role="prober"} 1
jetmon_mesh_nodes{region="us",role="prober"} 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "jetmon_mesh_nodes"); err != nil {
			t.Error(err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if n := testutil.CollectAndCount(c.m.nodes.vec); n != 0 {
			t.Errorf("%d node series exported after the term, want 0", n)
		}
	})
}

func TestReconcileTermStartRestampsUnchangedRanges(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		for id, ranges := range Assign(testRange, []Candidate{{NodeID: "a"}, {NodeID: "b"}}, nil) {
			f.assign.kv[id] = uptime.Assignment{NodeID: id, Region: "eu", Epoch: 3, Ranges: ranges}
		}
		f.dir.set(uptime.RoleProber, prober("a", "eu", 1), prober("b", "eu", 1))
		c := newTestCoordinator(t, f, nil)
		stop := runLoop(t, func(ctx context.Context) error { return c.runAssign(ctx, 8, &assignView{}) })
		stored, puts, _ := f.assign.snapshot()
		checkStored(t, stored, 8, "a", "b")
		if puts != 2 {
			t.Errorf("puts = %d, want both keys restamped", puts)
		}
		_ = stop()
	})
}
