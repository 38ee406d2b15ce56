package sqlstore_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Shape of the ingest benchmark: batches of benchBatch results over
// benchSites sites checked every benchInterval, written with the default
// history policy's proportions.
const (
	benchSites       = 50_000
	benchBatch       = 1000
	benchInterval    = time.Minute
	benchFailEvery   = 50   // 2% failures: a history row each
	benchSampleEvery = 50   // 2% sampled successes: a history row each
	benchSSLEvery    = 1000 // an SSL expiry change now and then
)

// seedSites inserts n active sites with blog ids 1..n.
func seedSites(b testing.TB, db *sql.DB, n int) {
	b.Helper()
	const chunk = 1000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		args := make([]any, 0, 3*(hi-lo+1))
		for id := lo; id <= hi; id++ {
			args = append(args, id, id%1000, "https://example.com/"+strings.Repeat("x", id%20))
		}
		_, err := db.ExecContext(b.Context(), "INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url) VALUES "+
			"(?, ?, ?)"+strings.Repeat(", (?, ?, ?)", hi-lo), args...)
		if err != nil {
			b.Fatalf("seed sites: %v", err)
		}
	}
}

// benchBatchAt builds the i-th batch: sites (i*benchBatch .. ) mod
// benchSites, checked at simulated times that advance with i.
func benchBatchAt(i int, start time.Time) sqlstore.IngestBatch {
	perInterval := benchSites / benchBatch
	at := start.Add(time.Duration(i/perInterval)*benchInterval +
		time.Duration(i%perInterval)*benchInterval/time.Duration(perInterval))
	expiry := at.Add(90 * 24 * time.Hour)
	batch := sqlstore.IngestBatch{Consumer: "coordinator", FromSeq: uint64(i * benchBatch),
		ToSeq: uint64((i + 1) * benchBatch), Rollups: make([]sqlstore.Rollup, 0, benchBatch),
		LastChecked: make(map[int64]time.Time, benchBatch), SSLExpiry: map[int64]time.Time{}}
	for j := range benchBatch {
		blogID := int64((i*benchBatch+j)%benchSites + 1)
		checkedAt := at.Add(time.Duration(j) * time.Millisecond)
		r := uptime.ProbeResult{Region: "eu", NodeID: "prober-1", Result: uptime.Result{BlogID: blogID,
			URL: "https://example.com/", Method: "GET", Success: j%benchFailEvery != 0, HTTPCode: 200,
			RTT: 180 * time.Millisecond, DNS: 5 * time.Millisecond, TCP: 20 * time.Millisecond,
			TLS: 40 * time.Millisecond, TTFB: 100 * time.Millisecond, TLSVersion: 0x0304, CipherSuite: 0x1301,
			SSLExpiry: &expiry, CheckedAt: checkedAt}}
		rollup := sqlstore.Rollup{BlogID: blogID, Hour: checkedAt.Truncate(time.Hour), Checks: 1, RTTSamples: 1,
			RTTSumMs: 180, RTTMinMs: 180, RTTMaxMs: 180, DNSSumMs: 5, TCPSumMs: 20, TLSSumMs: 40, TTFBSumMs: 100}
		if !r.Success {
			r.HTTPCode, r.ErrorCode, rollup.Failures = 0, uptime.ErrorTimeout, 1
		}
		if !r.Success || j%benchSampleEvery == 1 {
			batch.History = append(batch.History, r)
		}
		if j%benchSSLEvery == 2 {
			batch.SSLExpiry[blogID] = expiry
		}
		batch.Rollups = append(batch.Rollups, rollup)
		batch.LastChecked[blogID] = checkedAt
	}
	return batch
}

// BenchmarkIngestCommit commits batches of 1000 results in the default
// history policy's shape (4% history rows, a roll-up and last_checked_at for
// every result, the odd SSL expiry) and reports results committed per
// second. Batches are built before the timer runs.
func BenchmarkIngestCommit(b *testing.B) {
	db, in := newIngest(b, sqlstore.IngestOpts{})
	seedSites(b, db, benchSites)
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	batches := make([]sqlstore.IngestBatch, 0, 256)
	for i := range cap(batches) {
		batches = append(batches, benchBatchAt(i, start))
	}
	n := 0
	for b.Loop() {
		if n == len(batches) { // rare: build more outside the measured time
			b.StopTimer()
			batches = append(batches, benchBatchAt(n, start))
			b.StartTimer()
		}
		if err := in.Commit(b.Context(), testEpoch, batches[n]); err != nil {
			b.Fatalf("commit batch %d: %v", n, err)
		}
		n++
	}
	b.ReportMetric(float64(n*benchBatch)/b.Elapsed().Seconds(), "results/s")
}
