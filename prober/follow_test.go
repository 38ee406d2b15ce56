package prober

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// On reassignment the new watch starts while the old one keeps running;
// at the new watch's Synced the old one stops and only sites of buckets no
// longer owned go. A site of a kept bucket is never missed across the swap,
// a site that moved here is checked from its first event at its own phase,
// and a dropped site is no longer checked.
func TestReassignmentWithoutGap(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const iv = time.Minute
		h := start(t, func(o *Opts, _ *harness) { o.MinCheckInterval = iv })
		leaving, kept, arriving := site(101, 1, iv), site(202, 2, iv), site(303, 3, iv)
		h.assignment(1, r(1, 2))
		old := h.sites.watch(t, 0)
		send(t, old, upsert(leaving), upsert(kept), synced())
		time.Sleep(3 * iv)

		h.assignment(2, r(2, 3))
		if h.sites.count() != 2 {
			t.Fatalf("%d watches after reassignment, want a second one", h.sites.count())
		}
		next := h.sites.watch(t, 1)
		if !slices.Equal(next.buckets, []int{2, 3}) || old.cancelled() {
			t.Fatalf("new watch over %v, old cancelled=%v: want [2 3] and the old one still running", next.buckets, old.cancelled())
		}
		send(t, next, upsert(arriving), upsert(kept))
		time.Sleep(2 * iv) // the new watch's snapshot is slow: nothing may pause meanwhile
		leavingChecks := len(h.chk.times(leaving.BlogID))
		send(t, next, synced())
		if !old.cancelled() {
			t.Error("old watch still running after the new one synced")
		}
		swappedAt := time.Now()
		time.Sleep(3 * iv)
		synctest.Wait()

		checkRhythm(t, kept.BlogID, h.chk.times(kept.BlogID), iv, 8)
		arrived := h.chk.times(arriving.BlogID)
		checkRhythm(t, arriving.BlogID, arrived, iv, 5)
		if len(arrived) == 0 || arrived[0].After(swappedAt.Add(-iv)) {
			t.Errorf("moved-in site first checked at %v, want before its watch synced", arrived)
		}
		if got := len(h.chk.times(leaving.BlogID)); got != leavingChecks || got < 5 {
			t.Errorf("site of a dropped bucket checked %d times, want %d (all before the swap, ≥ 5)", got, leavingChecks)
		}
		if got := h.p.Stats(); got["sites"] != 2 || got["buckets"] != 2 {
			t.Errorf("stats %v, want 2 sites in 2 buckets", got)
		}
	})
}

func TestAssignmentEpochs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		h.assignment(5, r(1, 1))
		send(t, h.sites.watch(t, 0), synced())
		h.assignment(4, r(7, 9)) // a deposed leader's late write
		if n := h.sites.count(); n != 1 {
			t.Fatalf("lower epoch opened a watch (%d watches)", n)
		}
		h.assignment(5, r(1, 1)) // same epoch, same buckets: nothing to do
		if n := h.sites.count(); n != 1 {
			t.Fatalf("unchanged assignment opened a watch (%d watches)", n)
		}
		h.assignment(5, r(1, 2)) // the same leader rebalanced
		if n := h.sites.count(); n != 2 || !slices.Equal(h.sites.watch(t, 1).buckets, []int{1, 2}) {
			t.Fatalf("equal-epoch change not followed (%d watches)", n)
		}
		send(t, h.sites.watch(t, 1), synced())
		h.assignment(0) // the key was deleted: own nothing, whatever the epoch
		if w := h.sites.watch(t, 1); !w.cancelled() {
			t.Fatal("a deleted assignment must stop the site watch")
		}
	})
}

// An assignment that changes again before the new watch synced replaces the
// pending watch; one that returns to the current buckets abandons it and
// drops the sites it brought; an empty one drops everything.
func TestAssignmentChurn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		h.assignment(1, r(1, 1))
		cur := h.sites.watch(t, 0)
		send(t, cur, upsert(site(1, 1, time.Minute)), synced())

		h.assignment(2, r(1, 2))
		pending := h.sites.watch(t, 1)
		send(t, pending, upsert(site(2, 2, time.Minute)))
		h.assignment(3, r(1, 3))
		if !pending.cancelled() || h.sites.count() != 3 || cur.cancelled() {
			t.Fatalf("pending watch cancelled=%v, %d watches, current cancelled=%v", pending.cancelled(), h.sites.count(), cur.cancelled())
		}
		send(t, h.sites.watch(t, 2), upsert(site(3, 3, time.Minute)))
		if got := h.p.Stats()["sites"]; got != 3 {
			t.Fatalf("%d sites while a watch is pending, want 3", got)
		}

		h.assignment(4, r(1, 1))
		if !h.sites.watch(t, 2).cancelled() || cur.cancelled() || h.sites.count() != 3 {
			t.Fatal("returning to the current buckets did not just abandon the pending watch")
		}
		if got := h.p.Stats()["sites"]; got != 1 {
			t.Errorf("%d sites after abandoning, want only bucket 1's", got)
		}

		h.assignment(5)
		if !cur.cancelled() || h.p.Stats()["sites"] != 0 || h.p.Stats()["buckets"] != 0 {
			t.Errorf("empty assignment left watch running=%v stats=%v", !cur.cancelled(), h.p.Stats())
		}
	})
}

// Removals unschedule (but not a stale key of a re-bucketed site), spec
// changes keep the phase, interval changes move to the new phase, and
// events for buckets the watch does not cover are ignored.
func TestSiteEvents(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const iv = time.Minute
		h := start(t, func(o *Opts, _ *harness) { o.MinCheckInterval = iv })
		h.assignment(1, r(1, 3))
		w := h.sites.watch(t, 0)
		removed, rebucketed, changed, slower := site(1, 1, iv), site(2, 1, iv), site(3, 1, iv), site(4, 1, iv)
		send(t, w, upsert(removed), upsert(rebucketed), upsert(changed), upsert(slower), synced())
		time.Sleep(2 * iv)

		moved := rebucketed
		moved.Bucket = 2
		changedURL := changed
		changedURL.Spec.URL = "https://new.test/"
		send(t, w,
			SiteEvent{Removed: true, Bucket: 1, BlogID: removed.BlogID},
			upsert(moved), SiteEvent{Removed: true, Bucket: 1, BlogID: moved.BlogID},
			upsert(changedURL),
			upsert(site(4, 1, 5*iv)),
			upsert(site(5, 9, iv)), // not a watched bucket
		)
		removedChecks := len(h.chk.times(removed.BlogID))
		time.Sleep(10 * iv)
		synctest.Wait()

		if got := len(h.chk.times(removed.BlogID)); got != removedChecks {
			t.Errorf("removed site checked %d more times", got-removedChecks)
		}
		checkRhythm(t, moved.BlogID, h.chk.times(moved.BlogID), iv, 12)
		checkRhythm(t, changed.BlogID, h.chk.times(changed.BlogID), iv, 12)
		specs := h.chk.specsOf(changed.BlogID)
		if last := specs[len(specs)-1]; last.URL != "https://new.test/" {
			t.Errorf("changed site checked at %q, want the new URL", last.URL)
		}
		slowTimes := h.chk.times(slower.BlogID)
		tail := slowTimes[len(slowTimes)-2:]
		if tail[1].Sub(tail[0]) != 5*iv || !aligned(tail[1], slower.BlogID, 5*iv) {
			t.Errorf("interval change: last checks %v apart, aligned=%v", tail[1].Sub(tail[0]), aligned(tail[1], slower.BlogID, 5*iv))
		}
		if len(h.chk.times(5)) != 0 || h.p.Stats()["sites"] != 3 {
			t.Errorf("site of an unwatched bucket scheduled; stats %v", h.p.Stats())
		}
	})
}

// A site watch that ends unexpectedly keeps its sites scheduled and is
// replaced after a backoff.
func TestSiteWatchEndedIsReopened(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		h.assignment(1, r(1, 1))
		first := h.sites.watch(t, 0)
		send(t, first, upsert(site(1, 1, time.Minute)), synced())
		close(first.events)
		time.Sleep(watchBackoffMax)
		synctest.Wait()
		if h.sites.count() != 2 || !slices.Equal(h.sites.watch(t, 1).buckets, []int{1}) {
			t.Fatalf("%d watches after the first ended, want a replacement over [1]", h.sites.count())
		}
		if got := h.p.Stats()["sites"]; got != 1 {
			t.Errorf("%d sites while the watch is replaced, want 1", got)
		}
		send(t, h.sites.watch(t, 1), upsert(site(1, 1, time.Minute)), synced())
		if !first.cancelled() {
			t.Error("ended watch not cancelled at the swap")
		}
	})
}

// The assignment channel ending is retried too.
func TestAssignmentWatchReopened(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		h.assign.reopen()
		time.Sleep(watchBackoffMax)
		h.assignment(1, r(0, 0))
		if h.sites.count() != 1 {
			t.Fatal("assignment watch not reopened after it ended")
		}
	})
}
