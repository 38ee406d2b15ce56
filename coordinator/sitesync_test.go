package coordinator

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newSiteSync(t *testing.T, f *fakes) *siteSync {
	t.Helper()
	c := newTestCoordinator(t, f, func(o *Opts) { o.Now = func() time.Time { return t0.Add(time.Minute) } })
	return &siteSync{c: c, index: make(map[int64]siteEntry)}
}

func keys(ks ...SiteKey) []SiteKey { return ks }

func TestSiteFullSync(t *testing.T) {
	t.Parallel()
	f := newFakes()
	f.source.set(1, 1, "https://one", true, t0)
	f.source.set(2, 2, "https://two", true, t0.Add(time.Second))
	f.source.set(3, 150, "https://out-of-range", true, t0)
	f.source.set(4, 4, "https://inactive", false, t0)
	for _, k := range keys(SiteKey{Bucket: 5, BlogID: 99}, SiteKey{Bucket: 7, BlogID: 1}, SiteKey{Bucket: 150, BlogID: 3}, SiteKey{Bucket: 4, BlogID: 4}) {
		f.mirror.kv[k] = f.source.rows[k.BlogID].Site
	}
	s := newSiteSync(t, f)
	ctx := t.Context()

	n, err := s.full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, puts, deletes := f.mirror.state()
	if want := keys(SiteKey{Bucket: 1, BlogID: 1}, SiteKey{Bucket: 2, BlogID: 2}); !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if puts != 2 || deletes != 4 || n != 6 {
		t.Errorf("puts, deletes, n = %d, %d, %d; want 2, 4, 6", puts, deletes, n)
	}
	if !s.watermark.Equal(t0.Add(time.Second)) {
		t.Errorf("watermark = %v, want the newest updated_at %v", s.watermark, t0.Add(time.Second))
	}

	if n, err := s.full(ctx); err != nil || n != 0 {
		t.Errorf("unchanged full sync wrote %d (err %v), want 0", n, err)
	}

	_ = f.mirror.Delete(ctx, SiteKey{Bucket: 2, BlogID: 2}) // lost behind our back
	if n, err := s.full(ctx); err != nil || n != 1 {
		t.Errorf("full sync after a lost key wrote %d (err %v), want 1", n, err)
	}
	if got, _, _ := f.mirror.state(); len(got) != 2 {
		t.Errorf("keys = %v, want both sites", got)
	}
}

func TestSiteIncrementalSync(t *testing.T) {
	t.Parallel()
	f := newFakes()
	for id, bucket := range map[int64]int{1: 1, 2: 2, 5: 5, 6: 6, 10: 10} {
		f.source.set(id, bucket, "https://site", true, t0)
	}
	f.source.set(8, 8, "https://inactive", false, t0)
	s := newSiteSync(t, f)
	ctx := t.Context()
	if _, err := s.full(ctx); err != nil {
		t.Fatal(err)
	}
	_, putsBefore, deletesBefore := f.mirror.state()

	later := t0.Add(10 * time.Second)
	f.source.set(1, 1, "https://site", false, later)       // deactivated
	f.source.set(2, 9, "https://site", true, later)        // re-bucketed
	f.source.set(5, 150, "https://site", true, later)      // out of the rollout range
	f.source.set(6, 6, "https://site", true, later)        // touched, unchanged
	f.source.set(7, 7, "https://new", true, later)         // new
	f.source.set(8, 8, "https://inactive", false, later)   // never mirrored
	f.source.set(9, 150, "https://elsewhere", true, later) // never in range
	f.source.set(10, 10, "https://changed", true, later)   // spec changed

	n, err := s.incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, puts, deletes := f.mirror.state()
	want := keys(SiteKey{Bucket: 6, BlogID: 6}, SiteKey{Bucket: 7, BlogID: 7}, SiteKey{Bucket: 9, BlogID: 2}, SiteKey{Bucket: 10, BlogID: 10})
	if !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if puts-putsBefore != 3 || deletes-deletesBefore != 3 || n != 6 {
		t.Errorf("puts, deletes, n = %d, %d, %d; want 3, 3, 6", puts-putsBefore, deletes-deletesBefore, n)
	}
	if got, _ := f.mirror.kv[SiteKey{Bucket: 10, BlogID: 10}]; got.Spec.URL != "https://changed" {
		t.Errorf("site 10 mirrored as %q", got.Spec.URL)
	}
	if !s.watermark.Equal(later) {
		t.Errorf("watermark = %v, want %v", s.watermark, later)
	}

	// The overlap re-reads the same rows: nothing is written again.
	if n, err := s.incremental(ctx); err != nil || n != 0 {
		t.Errorf("second incremental sync wrote %d (err %v), want 0", n, err)
	}
}

func TestSiteIncrementalSyncResumesAfterFailure(t *testing.T) {
	t.Parallel()
	f := newFakes()
	s := newSiteSync(t, f)
	ctx := t.Context()
	if _, err := s.full(ctx); err != nil {
		t.Fatal(err)
	}
	f.source.set(1, 1, "https://one", true, t0.Add(time.Hour))
	f.source.set(2, 2, "https://two", true, t0.Add(2*time.Hour))
	f.mirror.failPut = 2
	if _, err := s.sync(ctx); err == nil {
		t.Fatal("sync succeeded despite a failing put")
	}
	if got := testutil.ToFloat64(s.c.m.siteSyncErrors.WithLabelValues(syncIncremental)); got != 1 {
		t.Errorf("incremental errors = %v, want 1", got)
	}
	if !s.watermark.Equal(t0.Add(time.Hour)) {
		t.Errorf("watermark = %v, want the last applied row's %v", s.watermark, t0.Add(time.Hour))
	}
	f.mirror.failPut = 0
	if n, err := s.sync(ctx); err != nil || n != 1 {
		t.Errorf("retry wrote %d (err %v), want 1", n, err)
	}
}

func TestSiteSyncLoopAndCommand(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.source.set(1, 1, "https://one", true, time.Now())
		c := newTestCoordinator(t, f, nil)
		requests := make(chan syncRequest)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- c.runSiteSync(ctx, requests) }()
		synctest.Wait()
		if got, _, _ := f.mirror.state(); len(got) != 1 {
			t.Fatalf("keys after the term's full sync = %v", got)
		}

		f.source.set(2, 2, "https://two", true, time.Now())
		advance(c.opts.SiteSyncInterval)
		if got, _, _ := f.mirror.state(); len(got) != 2 {
			t.Fatalf("keys after an incremental sync = %v", got)
		}
		if got := testutil.ToFloat64(c.m.sitesMirrored); got != 2 {
			t.Errorf("sites mirrored = %v, want 2", got)
		}

		f.source.set(3, 3, "https://three", true, time.Now())
		reply, err := siteSyncHandler(ctx.Done(), requests)(ctx, []byte(`{}`))
		if err != nil || string(reply) != `{"ok":true,"synced":1}` {
			t.Fatalf("site.sync = %s, %v", reply, err)
		}
		if got, _, _ := f.mirror.state(); len(got) != 3 {
			t.Fatalf("keys after site.sync = %v", got)
		}

		_ = f.mirror.Put(ctx, uptime.Site{BlogID: 50, Bucket: 50}) // stale, unknown to the index
		advance(c.opts.SiteFullSync)
		if got, _, _ := f.mirror.state(); len(got) != 3 {
			t.Errorf("stale key survived the periodic full sync: %v", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := siteSyncHandler(ctx.Done(), requests)(t.Context(), nil); err == nil {
			t.Error("site.sync succeeded after the term ended")
		}
	})
}
