package coordinator

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// startIngest runs one term's ingestion at epoch (also set in the fence),
// without verifliers.
func startIngest(t *testing.T, f *fakes, c *Coordinator, epoch uint64) (stop func() error) {
	t.Helper()
	f.fence.raise(epoch)
	w := ingestWork(c, epoch)
	return runLoop(t, func(ctx context.Context) error { return c.runIngest(ctx, w) })
}

// ingestWork is the term work of an ingestion run alone: no veriflier
// region is alive.
func ingestWork(c *Coordinator, epoch uint64) *termWork {
	w := c.newTermWork(epoch)
	w.regions.set(nil)
	return w
}

func TestIngestSkipsDuplicatesAndCommitsOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.ingest.watermark[ingestConsumer] = 5
		c := newTestCoordinator(t, f, nil)
		stop := startIngest(t, f, c, 3)
		now := time.Now()

		sent := f.results.deliver(
			Delivery{Seq: 4, Result: result(1, false, now)},
			Delivery{Seq: 5, Result: result(1, false, now)},
			Delivery{Seq: 6, Result: result(1, true, now)},
			Delivery{Seq: 7, Result: result(2, false, now)},
		)
		synctest.Wait()
		commits := f.ingest.committed()
		if len(commits) != 1 || commits[0].FromSeq != 5 || commits[0].ToSeq != 7 || len(commits[0].History) != 2 {
			t.Fatalf("commits = %+v, want one batch 5..7 with 2 history rows", commits)
		}
		if !sent.wasAcked() {
			t.Error("committed batch not acked")
		}
		if got := testutil.ToFloat64(c.m.duplicates); got != 2 {
			t.Errorf("duplicates = %v, want 2", got)
		}
		if got := testutil.ToFloat64(c.m.processed); got != 2 {
			t.Errorf("processed = %v, want 2", got)
		}

		// A redelivery of the whole batch changes nothing but is acked.
		again := f.results.deliver(Delivery{Seq: 6, Result: result(1, true, now)}, Delivery{Seq: 7, Result: result(2, false, now)})
		synctest.Wait()
		if got := len(f.ingest.committed()); got != 1 {
			t.Errorf("commits = %d after a redelivery, want 1", got)
		}
		if !again.wasAcked() {
			t.Error("redelivered batch not acked")
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// A term rewinds the consumer before its first fetch and after a failed
// one, so results fetched and never acked are not overtaken by later ones.
func TestIngestRewinds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, nil)
		stop := startIngest(t, f, c, 1)
		if got := f.results.rewinds.Load(); got != 1 {
			t.Errorf("rewinds = %d at the term's start, want 1", got)
		}
		advance(3 * fetchWait) // successful empty fetches
		if got := f.results.rewinds.Load(); got != 1 {
			t.Errorf("rewinds = %d after fetches that succeeded, want 1", got)
		}
		f.results.failNext.Store(true)
		advance(2 * fetchWait) // the failure, its backoff, the next fetch
		if got := f.results.rewinds.Load(); got != 2 {
			t.Errorf("rewinds = %d after a failed fetch, want 2", got)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIngestRetriesCommitThenSucceeds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.ingest.errs = []error{errBoom, errBoom}
		c := newTestCoordinator(t, f, nil)
		stop := startIngest(t, f, c, 1)

		sent := f.results.deliver(Delivery{Seq: 1, Result: result(1, true, time.Now())})
		synctest.Wait()
		if sent.wasAcked() {
			t.Fatal("acked before the commit succeeded")
		}
		advance(time.Second) // past two backoffs
		if got := len(f.ingest.committed()); got != 1 {
			t.Fatalf("commits = %d, want 1", got)
		}
		if !sent.wasAcked() {
			t.Error("not acked after the commit succeeded")
		}
		if got := sent.extends.Load(); got != 2 {
			t.Errorf("extends = %d, want one per failed attempt (2)", got)
		}
		if got := testutil.ToFloat64(c.m.commitErrors); got != 2 {
			t.Errorf("commit errors = %v, want 2", got)
		}
		if n := testutil.CollectAndCount(c.m.commit); n != 1 {
			t.Errorf("commit histogram series = %d", n)
		}
		_ = stop()
	})
}

// TestIngestLostCommitReply: a commit that succeeded on the server but whose
// reply was lost is recognised by the watermark, acked and not retried.
func TestIngestLostCommitReply(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.ingest.lostReply = true
		c := newTestCoordinator(t, f, nil)
		stop := startIngest(t, f, c, 1)

		sent := f.results.deliver(Delivery{Seq: 1, Result: result(1, true, time.Now())})
		synctest.Wait()
		advance(time.Second)
		if got := len(f.ingest.committed()); got != 1 {
			t.Fatalf("commits = %d, want exactly 1", got)
		}
		if !sent.wasAcked() {
			t.Error("a batch whose commit landed must be acked")
		}
		_ = stop()
	})
}

func TestIngestFencedEndsTerm(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, nil)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		f.fence.raise(2)
		done := make(chan error, 1)
		go func() { done <- c.runIngest(ctx, ingestWork(c, 1)) }() // a deposed leader's epoch

		sent := f.results.deliver(Delivery{Seq: 1, Result: result(1, true, time.Now())})
		synctest.Wait()
		select {
		case err := <-done:
			if !errors.Is(err, ErrFenced) {
				t.Fatalf("runIngest = %v, want ErrFenced", err)
			}
		default:
			t.Fatal("ingestion continued after a fenced commit")
		}
		if sent.wasAcked() || len(f.ingest.committed()) != 0 {
			t.Error("a fenced batch was committed or acked")
		}
	})
}

func TestIngestCheckAge(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, nil)
		stop := startIngest(t, f, c, 1)
		now := time.Now()
		late := result(1, true, now)
		late.DueAt = now.Add(-3 * time.Second)
		early := result(2, true, now)
		early.DueAt = now.Add(time.Second)
		f.results.deliver(Delivery{Seq: 1, Result: late}, Delivery{Seq: 2, Result: early}, Delivery{Seq: 3, Result: result(3, true, now)})
		synctest.Wait()

		var m dto.Metric
		if err := c.m.checkAge.Write(&m); err != nil {
			t.Fatal(err)
		}
		// The early check counts as on time; the one without a due time is
		// not observed.
		if got := m.GetHistogram(); got.GetSampleCount() != 2 || got.GetSampleSum() != 3 {
			t.Errorf("check age count %d sum %v, want 2 and 3", got.GetSampleCount(), got.GetSampleSum())
		}
		_ = stop()
	})
}
