package bus_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func site(bucket int, id int64) uptime.Site {
	return uptime.Site{BlogID: id, Bucket: bucket, CheckInterval: time.Minute,
		Spec: uptime.CheckSpec{BlogID: id, URL: fmt.Sprintf("https://%d.example/", id), RedirectPolicy: uptime.RedirectFollow}}
}

// probeEvent is a role-local event type, like prober.SiteEvent.
type probeEvent struct {
	id      int64
	url     string
	removed bool
	synced  bool
}

func toProbeEvent(e bus.SiteEvent) probeEvent {
	return probeEvent{id: e.BlogID, url: e.Site.Spec.URL, removed: e.Removed, synced: e.Synced}
}

// collectUntilSynced reads events up to and including the Synced one.
func collectUntilSynced(t *testing.T, ch <-chan probeEvent) map[int64]string {
	t.Helper()
	got := map[int64]string{}
	for {
		e := recv(t, ch, 5*time.Second, "initial sites")
		if e.synced {
			return got
		}
		if e.removed {
			t.Fatalf("removal during the initial snapshot: %+v", e)
		}
		got[e.id] = e.url
	}
}

func TestSiteMirrorAndWatcher(t *testing.T) {
	t.Parallel()
	rows := map[string]struct{ maxFilters int }{
		"one filter per bucket":      {},
		"all keys, filtered locally": {maxFilters: 1},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, js := setup(t, testAssets())
			ctx := t.Context()
			m, err := bus.NewSiteMirror(js)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []uptime.Site{site(1, 10), site(1, 11), site(2, 20), site(3, 30)} {
				if err := m.Put(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			keys, err := m.Keys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(keys, func(a, b bus.SiteRef) int { return int(a.BlogID - b.BlogID) })
			if want := []bus.SiteRef{{1, 10}, {1, 11}, {2, 20}, {3, 30}}; !slices.Equal(keys, want) {
				t.Errorf("Keys = %v, want %v", keys, want)
			}

			w, err := bus.NewSiteWatcher(js, bus.SiteWatcherOpts[probeEvent]{Event: toProbeEvent, MaxFilters: row.maxFilters})
			if err != nil {
				t.Fatal(err)
			}
			events, err := w.WatchBuckets(ctx, []int{1, 3, 1})
			if err != nil {
				t.Fatal(err)
			}
			got := collectUntilSynced(t, events)
			want := map[int64]string{10: "https://10.example/", 11: "https://11.example/", 30: "https://30.example/"}
			if !maps.Equal(got, want) {
				t.Fatalf("initial sites = %v, want %v", got, want)
			}

			changed := site(1, 10)
			changed.Spec.URL = "https://changed.example/"
			for _, step := range []func() error{
				func() error { return m.Put(ctx, site(2, 21)) }, // another bucket: not seen
				func() error { return m.Put(ctx, changed) },
				func() error { return m.Delete(ctx, bus.SiteRef{Bucket: 1, BlogID: 11}) },
				func() error { return m.Put(ctx, site(3, 31)) },
			} {
				if err := step(); err != nil {
					t.Fatal(err)
				}
			}
			wantEvents := []probeEvent{{id: 10, url: "https://changed.example/"}, {id: 11, removed: true}, {id: 31, url: "https://31.example/"}}
			for i, want := range wantEvents {
				if e := recv(t, events, 5*time.Second, "change"); e != want {
					t.Errorf("change %d = %+v, want %+v", i, e, want)
				}
			}
		})
	}
}

func TestSiteWatcherNoBuckets(t *testing.T) {
	t.Parallel()
	_, js := setup(t, testAssets())
	w, err := bus.NewSiteWatcher(js, bus.SiteWatcherOpts[bus.SiteEvent]{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	events, err := w.WatchBuckets(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := recv(t, events, time.Second, "synced"); !e.Synced {
		t.Errorf("first event = %+v, want Synced", e)
	}
	cancel()
	for range events {
	}
	if _, err := w.WatchBuckets(t.Context(), []int{-1}); err == nil {
		t.Error("negative bucket: want an error")
	}
	if _, err := bus.NewSiteWatcher(js, bus.SiteWatcherOpts[probeEvent]{}); err == nil {
		t.Error("no Event for a foreign type: want an error")
	}
}

func TestAssignmentsAndWatcher(t *testing.T) {
	t.Parallel()
	_, js := setup(t, testAssets())
	ctx := t.Context()
	store, err := bus.NewAssignments(js, bus.AssignmentsOpts{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := bus.NewAssignmentWatcher(js, bus.AssignmentWatcherOpts{})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := w.WatchAssignment(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if a := recv(t, mine, 5*time.Second, "initial"); a.NodeID != "p1" || a.Epoch != 0 || len(a.Ranges) != 0 {
		t.Fatalf("initial assignment = %+v, want empty", a)
	}

	a1 := uptime.Assignment{NodeID: "p1", Region: "us", Epoch: 5, Ranges: []uptime.BucketRange{{Min: 0, Max: 499}}}
	a2 := uptime.Assignment{NodeID: "p2", Region: "eu", Epoch: 5, Ranges: []uptime.BucketRange{{Min: 500, Max: 999}}}
	for _, a := range []uptime.Assignment{a1, a2} {
		if err := store.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := recv(t, mine, 5*time.Second, "put"); !slices.Equal(got.Ranges, a1.Ranges) || got.Epoch != 5 {
		t.Errorf("after put: %+v", got)
	}
	all, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["p2"].Region != "eu" || !slices.Equal(all["p1"].Ranges, a1.Ranges) {
		t.Errorf("List = %+v", all)
	}

	// A second watcher starts from the current value.
	late, err := w.WatchAssignment(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got := recv(t, late, 5*time.Second, "current"); got.Epoch != 5 {
		t.Errorf("late watcher first value = %+v", got)
	}

	if err := store.Delete(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, mine, 5*time.Second, "delete"); got.NodeID != "p1" || got.Epoch != 0 || got.Ranges != nil {
		t.Errorf("after delete: %+v, want empty", got)
	}
	all, err = store.List(ctx)
	if err != nil || len(all) != 1 {
		t.Errorf("List after delete = %v, %v", all, err)
	}
	if err := store.Put(ctx, uptime.Assignment{NodeID: "bad.id", Epoch: 1}); err == nil {
		t.Error("put with a dotted node id: want an error")
	}
}
