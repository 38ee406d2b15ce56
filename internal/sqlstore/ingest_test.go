package sqlstore_test

import (
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// testEpoch is the epoch newIngest advances the fence to.
const testEpoch = 7

// newIngest returns a fresh database whose fence holds testEpoch, and an
// Ingest on it.
func newIngest(t testing.TB, opts sqlstore.IngestOpts) (*sql.DB, *sqlstore.Ingest) {
	t.Helper()
	db := testenv.NewDB(t)
	if err := sqlstore.NewFence(db).Advance(t.Context(), testEpoch, "test"); err != nil {
		t.Fatalf("advance fence: %v", err)
	}
	in, err := sqlstore.NewIngest(db, opts)
	if err != nil {
		t.Fatalf("NewIngest: %v", err)
	}
	return db, in
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checked is a check time whose hour is fixed.
var checked = time.Date(2026, 4, 2, 13, 20, 5, 123456789, time.UTC)

// fullBatch writes one of everything for blog 1 and 2 (sites exist).
func fullBatch(from, to uint64) sqlstore.IngestBatch {
	expiry := time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)
	failure := uptime.ProbeResult{Region: "eu", NodeID: "p1", Failures: 1, Result: uptime.Result{
		BlogID: 1, URL: "https://1.example", HTTPCode: 503, ErrorCode: uptime.ErrorNone,
		RTT: 0, DNS: 12 * time.Millisecond, CheckedAt: checked}}
	success := uptime.ProbeResult{Region: "us", NodeID: "p2", Result: uptime.Result{
		BlogID: 2, URL: "https://2.example", Method: "GET", Success: true, HTTPCode: 200,
		ErrorCode: uptime.ErrorKeyword, KeywordRule: uptime.KeywordForbidden,
		RTT: 250 * time.Millisecond, DNS: 10 * time.Millisecond, TCP: 20 * time.Millisecond,
		TLS: 30 * time.Millisecond, TTFB: 40 * time.Millisecond, SSLExpiry: &expiry,
		TLSVersion: 0x0303, CipherSuite: 0xc02f, CheckedAt: checked.Add(time.Second)}}
	return sqlstore.IngestBatch{
		Consumer: "coordinator", FromSeq: from, ToSeq: to,
		History: []uptime.ProbeResult{failure, success},
		Rollups: []sqlstore.Rollup{
			{BlogID: 1, Hour: checked.Truncate(time.Hour), Checks: 1, Failures: 1},
			{BlogID: 2, Hour: checked.Truncate(time.Hour), Checks: 1, RTTSamples: 1,
				RTTSumMs: 250, RTTMinMs: 250, RTTMaxMs: 250, DNSSumMs: 10, TCPSumMs: 20, TLSSumMs: 30, TTFBSumMs: 40},
		},
		LastChecked: map[int64]time.Time{1: checked, 2: checked.Add(time.Second)},
		SSLExpiry:   map[int64]time.Time{2: expiry},
	}
}

// historyRow is a jetmon_check_history row as read back.
type historyRow struct {
	BlogID                   int64
	CheckedAt                time.Time
	Region, NodeID, Method   string
	Success                  bool
	HTTPCode, ErrorCode      int
	KeywordRule              sql.NullString
	RTT, DNS, TCP, TLS, TTFB sql.NullInt64
	TLSVersion, CipherSuite  sql.NullInt64
	SSLExpiresAt             sql.NullTime
}

func readHistory(t *testing.T, db *sql.DB) []historyRow {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT blog_id, checked_at, region, node_id, request_method,
		success, http_code, error_code, keyword_rule, rtt_ms, dns_ms, tcp_ms, tls_ms, ttfb_ms, tls_version,
		cipher_suite, ssl_expires_at FROM jetmon_check_history ORDER BY id`)
	if err != nil {
		t.Fatalf("read history: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var out []historyRow
	for rows.Next() {
		var h historyRow
		if err := rows.Scan(&h.BlogID, &h.CheckedAt, &h.Region, &h.NodeID, &h.Method, &h.Success, &h.HTTPCode,
			&h.ErrorCode, &h.KeywordRule, &h.RTT, &h.DNS, &h.TCP, &h.TLS, &h.TTFB, &h.TLSVersion,
			&h.CipherSuite, &h.SSLExpiresAt); err != nil {
			t.Fatalf("scan history: %v", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read history: %v", err)
	}
	return out
}

func i64(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }

func TestIngestCommitWrites(t *testing.T) {
	t.Parallel()
	for _, chunk := range []int{0, 1} {
		t.Run(map[int]string{0: "default chunks", 1: "one row per statement"}[chunk], func(t *testing.T) {
			t.Parallel()
			db, in := newIngest(t, sqlstore.IngestOpts{ChunkRows: chunk})
			insertSite(t, db, 1, 1, nil)
			insertSite(t, db, 2, 2, nil)
			if err := in.Commit(t.Context(), testEpoch, fullBatch(0, 40)); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if seq, err := in.Watermark(t.Context(), "coordinator"); err != nil || seq != 40 {
				t.Errorf("Watermark = %d, %v, want 40", seq, err)
			}
			expiry := time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)
			want := []historyRow{
				{BlogID: 1, CheckedAt: checked.Truncate(time.Millisecond), Region: "eu", NodeID: "p1", Method: "GET",
					HTTPCode: 503, RTT: i64(0), DNS: i64(12)},
				{BlogID: 2, CheckedAt: checked.Add(time.Second).Truncate(time.Millisecond), Region: "us", NodeID: "p2",
					Method: "GET", Success: true, HTTPCode: 200, ErrorCode: int(uptime.ErrorKeyword),
					KeywordRule: sql.NullString{String: "forbidden", Valid: true},
					RTT:         i64(250), DNS: i64(10), TCP: i64(20), TLS: i64(30), TTFB: i64(40),
					TLSVersion: i64(0x0303), CipherSuite: i64(0xc02f), SSLExpiresAt: sql.NullTime{Time: expiry, Valid: true}},
			}
			if got := readHistory(t, db); !reflect.DeepEqual(got, want) {
				t.Errorf("history =\n%+v\nwant\n%+v", got, want)
			}
			assertRollup(t, db, 2, rollupRow{checks: 1, samples: 1, sumRTT: 250, minRTT: i64(250), maxRTT: i64(250),
				phases: [4]int64{10, 20, 30, 40}})
			assertRollup(t, db, 1, rollupRow{checks: 1, failures: 1})
			assertBookkeeping(t, db, 2, checked.Add(time.Second).Truncate(time.Second), "2027-01-31")
			assertBookkeeping(t, db, 1, checked.Truncate(time.Second), "")
		})
	}
}

// rollupRow is the part of a jetmon_check_rollups_hourly row tests compare.
type rollupRow struct {
	checks, failures, samples, sumRTT int64
	minRTT, maxRTT                    sql.NullInt64
	phases                            [4]int64 // dns, tcp, tls, ttfb sums
}

func assertRollup(t *testing.T, db *sql.DB, blogID int64, want rollupRow) {
	t.Helper()
	var got rollupRow
	err := db.QueryRowContext(t.Context(), `SELECT checks, failures, rtt_samples, sum_rtt_ms, min_rtt_ms, max_rtt_ms,
		sum_dns_ms, sum_tcp_ms, sum_tls_ms, sum_ttfb_ms FROM jetmon_check_rollups_hourly WHERE blog_id = ? AND hour = ?`,
		blogID, checked.Truncate(time.Hour)).Scan(&got.checks, &got.failures, &got.samples, &got.sumRTT,
		&got.minRTT, &got.maxRTT, &got.phases[0], &got.phases[1], &got.phases[2], &got.phases[3])
	if err != nil {
		t.Fatalf("read rollup of blog %d: %v", blogID, err)
	}
	if got != want {
		t.Errorf("rollup of blog %d = %+v, want %+v", blogID, got, want)
	}
}

// assertBookkeeping checks a site's last_checked_at and ssl_expiry_date
// ("" for NULL), and that updated_at kept its inserted value.
func assertBookkeeping(t *testing.T, db *sql.DB, blogID int64, lastChecked time.Time, sslDate string) {
	t.Helper()
	var (
		last      sql.NullTime
		ssl       sql.NullString
		updatedAt time.Time
	)
	err := db.QueryRowContext(t.Context(), `SELECT last_checked_at, DATE_FORMAT(ssl_expiry_date, '%Y-%m-%d'), updated_at
		FROM jetpack_monitor_sites WHERE blog_id = ?`, blogID).Scan(&last, &ssl, &updatedAt)
	if err != nil {
		t.Fatalf("read site %d: %v", blogID, err)
	}
	if !last.Valid || !last.Time.Equal(lastChecked) {
		t.Errorf("blog %d last_checked_at = %v, want %v", blogID, last, lastChecked)
	}
	if ssl.String != sslDate {
		t.Errorf("blog %d ssl_expiry_date = %q, want %q", blogID, ssl.String, sslDate)
	}
	if !updatedAt.Equal(past) {
		t.Errorf("blog %d updated_at moved to %v by a bookkeeping write", blogID, updatedAt)
	}
}

// written counts every row a batch writes.
func written(t *testing.T, db *sql.DB) int {
	t.Helper()
	return count(t, db, "SELECT COUNT(*) FROM jetmon_check_history") +
		count(t, db, "SELECT COUNT(*) FROM jetmon_check_rollups_hourly") +
		count(t, db, "SELECT COUNT(*) FROM jetpack_monitor_sites WHERE last_checked_at IS NOT NULL OR ssl_expiry_date IS NOT NULL")
}

func TestIngestFenced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance uint64 // the fence's epoch before the commit, 0: never advanced
		epoch   uint64 // the committer's epoch
	}{
		{name: "a newer leader advanced the fence", advance: testEpoch + 1, epoch: testEpoch},
		{name: "the committer never advanced the fence", advance: testEpoch, epoch: testEpoch + 1},
		{name: "no fencing row", advance: 0, epoch: testEpoch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.NewDB(t)
			if tt.advance > 0 {
				if err := sqlstore.NewFence(db).Advance(t.Context(), tt.advance, "other"); err != nil {
					t.Fatalf("advance: %v", err)
				}
			}
			in, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{})
			if err != nil {
				t.Fatalf("NewIngest: %v", err)
			}
			insertSite(t, db, 1, 1, nil)
			insertSite(t, db, 2, 2, nil)
			err = in.Commit(t.Context(), tt.epoch, fullBatch(0, 40))
			if !errors.Is(err, sqlstore.ErrFenced) {
				t.Fatalf("Commit = %v, want ErrFenced", err)
			}
			if n := written(t, db); n != 0 {
				t.Errorf("a fenced commit wrote %d rows", n)
			}
			if seq, err := in.Watermark(t.Context(), "coordinator"); err != nil || seq != 0 {
				t.Errorf("Watermark after a fenced commit = %d, %v, want 0", seq, err)
			}
		})
	}
}

func TestIngestWatermark(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	insertSite(t, db, 1, 1, nil)
	insertSite(t, db, 2, 2, nil)
	if seq, err := in.Watermark(t.Context(), "coordinator"); err != nil || seq != 0 {
		t.Fatalf("Watermark before any commit = %d, %v, want 0", seq, err)
	}
	if err := in.Commit(t.Context(), testEpoch, fullBatch(3, 10)); !errors.Is(err, sqlstore.ErrWatermarkMoved) {
		t.Fatalf("commit from 3 with no watermark yet = %v, want ErrWatermarkMoved", err)
	}
	if n := written(t, db); n != 0 {
		t.Fatalf("a refused commit wrote %d rows", n)
	}
	if err := in.Commit(t.Context(), testEpoch, fullBatch(0, 10)); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	rows := written(t, db)
	steps := []struct {
		name      string
		from, to  uint64
		wantMoved bool
		wantSeq   uint64
	}{
		{name: "the same batch again", from: 0, to: 10, wantMoved: true, wantSeq: 10},
		{name: "a batch from a stale watermark", from: 5, to: 12, wantMoved: true, wantSeq: 10},
		{name: "a batch from ahead of the watermark", from: 11, to: 20, wantMoved: true, wantSeq: 10},
		{name: "the next batch", from: 10, to: 20, wantSeq: 20},
		{name: "the next batch again", from: 10, to: 20, wantMoved: true, wantSeq: 20},
	}
	for _, st := range steps { // sequential: each step depends on the previous
		err := in.Commit(t.Context(), testEpoch, fullBatch(st.from, st.to))
		if errors.Is(err, sqlstore.ErrWatermarkMoved) != st.wantMoved || (err != nil && !st.wantMoved) {
			t.Fatalf("%s: Commit = %v, want moved %v", st.name, err, st.wantMoved)
		}
		if seq, err := in.Watermark(t.Context(), "coordinator"); err != nil || seq != st.wantSeq {
			t.Errorf("%s: Watermark = %d, %v, want %d", st.name, seq, err, st.wantSeq)
		}
		if !st.wantMoved {
			rows += 2 // two history rows; the roll-up and site rows exist already
		}
		if got := written(t, db); got != rows {
			t.Errorf("%s: %d rows written, want %d", st.name, got, rows)
		}
	}
	if seq, err := in.Watermark(t.Context(), "other"); err != nil || seq != 0 {
		t.Errorf("another consumer's Watermark = %d, %v, want 0", seq, err)
	}
}

func TestIngestConcurrentCommitsOfOneBatch(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	insertSite(t, db, 1, 1, nil)
	insertSite(t, db, 2, 2, nil)
	const committers = 4
	errs := make([]error, committers)
	var wg sync.WaitGroup
	for i := range committers {
		wg.Go(func() { errs[i] = in.Commit(t.Context(), testEpoch, fullBatch(0, 10)) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, sqlstore.ErrWatermarkMoved):
			t.Errorf("committer %d: %v, want nil or ErrWatermarkMoved", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d commits succeeded, want exactly 1", ok)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM jetmon_check_history"); n != 2 {
		t.Errorf("%d history rows, want 2", n)
	}
}

func TestIngestRollupsAccumulate(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	hour := checked.Truncate(time.Hour)
	batches := [][]sqlstore.Rollup{
		{{BlogID: 1, Hour: hour, Checks: 2, Failures: 2}}, // no RTT sample yet: min and max stay NULL
		{{BlogID: 1, Hour: hour.Add(20 * time.Minute), Checks: 10, Failures: 1, RTTSamples: 9, RTTSumMs: 900,
			RTTMinMs: 50, RTTMaxMs: 200, DNSSumMs: 1, TCPSumMs: 2, TLSSumMs: 3, TTFBSumMs: 4}},
		{{BlogID: 1, Hour: hour, Checks: 5, RTTSamples: 5, RTTSumMs: 500, RTTMinMs: 20, RTTMaxMs: 150,
			DNSSumMs: 1, TCPSumMs: 1, TLSSumMs: 1, TTFBSumMs: 1}},
		{{BlogID: 1, Hour: hour, Checks: 3, Failures: 3}, {BlogID: 1, Hour: hour, Checks: 1, RTTSamples: 1,
			RTTSumMs: 300, RTTMinMs: 300, RTTMaxMs: 300}}, // two rows of one key in one batch
	}
	wants := []rollupRow{
		{checks: 2, failures: 2},
		{checks: 12, failures: 3, samples: 9, sumRTT: 900, minRTT: i64(50), maxRTT: i64(200), phases: [4]int64{1, 2, 3, 4}},
		{checks: 17, failures: 3, samples: 14, sumRTT: 1400, minRTT: i64(20), maxRTT: i64(200), phases: [4]int64{2, 3, 4, 5}},
		{checks: 21, failures: 6, samples: 15, sumRTT: 1700, minRTT: i64(20), maxRTT: i64(300), phases: [4]int64{2, 3, 4, 5}},
	}
	for i, rollups := range batches {
		b := sqlstore.IngestBatch{Consumer: "coordinator", FromSeq: uint64(i), ToSeq: uint64(i + 1), Rollups: rollups}
		if err := in.Commit(t.Context(), testEpoch, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		assertRollup(t, db, 1, wants[i])
	}
	if n := count(t, db, "SELECT COUNT(*) FROM jetmon_check_rollups_hourly"); n != 1 {
		t.Errorf("%d roll-up rows, want 1 (one site-hour)", n)
	}
}

func TestIngestLastCheckedNeverMovesBack(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	insertSite(t, db, 1, 1, nil)
	insertSite(t, db, 1, 4, nil) // a second legacy row of the same blog gets it too
	times := []struct {
		at   time.Time
		want time.Time
	}{
		{at: checked, want: checked.Truncate(time.Second)},
		{at: checked.Add(-time.Hour), want: checked.Truncate(time.Second)},
		{at: checked.Add(time.Minute), want: checked.Add(time.Minute).Truncate(time.Second)},
	}
	for i, tt := range times {
		b := sqlstore.IngestBatch{Consumer: "c", FromSeq: uint64(i), ToSeq: uint64(i + 1),
			LastChecked: map[int64]time.Time{1: tt.at}}
		if err := in.Commit(t.Context(), testEpoch, b); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		n := count(t, db, "SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 1 AND last_checked_at = ?"+
			" AND updated_at = ?", tt.want, past)
		if n != 2 {
			t.Errorf("after writing %v: %d rows have last_checked_at %v and the old updated_at, want 2", tt.at, n, tt.want)
		}
	}
}

func TestIngestClipsValuesThatDoNotFit(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	farFuture := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("é", 300)
	b := sqlstore.IngestBatch{Consumer: "c", FromSeq: 0, ToSeq: 1,
		History: []uptime.ProbeResult{{Region: long, NodeID: long, Result: uptime.Result{
			BlogID: 1, HTTPCode: -1, ErrorCode: 1000, RTT: -time.Second, SSLExpiry: &farFuture, CheckedAt: checked}}},
		Rollups: []sqlstore.Rollup{{BlogID: 1, Hour: checked, Checks: -1, RTTSamples: 1, RTTMinMs: -5, RTTMaxMs: 1 << 40}},
	}
	if err := in.Commit(t.Context(), testEpoch, b); err != nil {
		t.Fatalf("Commit with out-of-range values: %v", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM jetmon_check_history WHERE ssl_expires_at IS NULL AND error_code = 255"); n != 1 {
		t.Errorf("%d clipped history rows, want 1", n)
	}
}

func TestIngestRejectsBadInput(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	tests := []struct {
		name string
		b    sqlstore.IngestBatch
	}{
		{name: "no consumer", b: sqlstore.IngestBatch{FromSeq: 0, ToSeq: 1}},
		{name: "consumer too long", b: sqlstore.IngestBatch{Consumer: string(make([]byte, 65)), FromSeq: 0, ToSeq: 1}},
		{name: "empty sequence range", b: sqlstore.IngestBatch{Consumer: "c", FromSeq: 5, ToSeq: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := in.Commit(t.Context(), testEpoch, tt.b); err == nil {
				t.Error("Commit succeeded")
			}
		})
	}
	for _, chunk := range []int{-1, 3001} {
		if _, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{ChunkRows: chunk}); err == nil {
			t.Errorf("NewIngest(ChunkRows %d) succeeded", chunk)
		}
	}
	if _, err := sqlstore.NewIngest(nil, sqlstore.IngestOpts{}); err == nil {
		t.Error("NewIngest(nil db) succeeded")
	}
}
