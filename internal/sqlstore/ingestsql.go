package sqlstore

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// statement is one SQL statement with its arguments.
type statement struct {
	query string
	args  []any
}

// historyInsert and historyRow insert jetmon_check_history rows (17 columns).
const (
	historyInsert = `INSERT INTO jetmon_check_history (blog_id, checked_at, region, node_id, request_method,
    success, http_code, error_code, keyword_rule, rtt_ms, dns_ms, tcp_ms, tls_ms, ttfb_ms,
    tls_version, cipher_suite, ssl_expires_at) VALUES `
	historyRow  = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	historyCols = 17
)

// rollupInsert adds roll-ups: sums add up, and the minimum and maximum keep
// whichever side is not NULL (LEAST and GREATEST return NULL if either is).
const (
	rollupInsert = `INSERT INTO jetmon_check_rollups_hourly (blog_id, hour, checks, failures, rtt_samples,
    sum_rtt_ms, min_rtt_ms, max_rtt_ms, sum_dns_ms, sum_tcp_ms, sum_tls_ms, sum_ttfb_ms) VALUES `
	rollupRow    = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	rollupCols   = 12
	rollupUpdate = ` ON DUPLICATE KEY UPDATE
    checks = checks + VALUES(checks),
    failures = failures + VALUES(failures),
    rtt_samples = rtt_samples + VALUES(rtt_samples),
    sum_rtt_ms = sum_rtt_ms + VALUES(sum_rtt_ms),
    min_rtt_ms = COALESCE(LEAST(min_rtt_ms, VALUES(min_rtt_ms)), min_rtt_ms, VALUES(min_rtt_ms)),
    max_rtt_ms = COALESCE(GREATEST(max_rtt_ms, VALUES(max_rtt_ms)), max_rtt_ms, VALUES(max_rtt_ms)),
    sum_dns_ms = sum_dns_ms + VALUES(sum_dns_ms),
    sum_tcp_ms = sum_tcp_ms + VALUES(sum_tcp_ms),
    sum_tls_ms = sum_tls_ms + VALUES(sum_tls_ms),
    sum_ttfb_ms = sum_ttfb_ms + VALUES(sum_ttfb_ms)`
)

// Lengths of the jetmon_check_history string columns, in characters.
const (
	regionLen = 64
	nodeIDLen = 128
	shortLen  = 16 // request_method, keyword_rule
)

// Ranges of the unsigned integer columns.
const (
	maxSmallint = math.MaxUint16
	maxTinyint  = math.MaxUint8
	maxInt      = math.MaxUint32
)

// historyStatements inserts rs in chunks of chunk rows. Values that do not
// fit their column are clipped rather than failing the batch, which would
// block ingestion behind one bad result.
func historyStatements(rs []uptime.ProbeResult, chunk int) []statement {
	var out []statement
	for part := range slices.Chunk(rs, chunk) {
		args := make([]any, 0, len(part)*historyCols)
		for _, r := range part {
			args = append(args,
				r.BlogID, r.CheckedAt.UTC().Truncate(time.Millisecond),
				clip(r.Region, regionLen), clip(r.NodeID, nodeIDLen), clip(cmp.Or(r.Method, "GET"), shortLen),
				r.Success, clamp(int64(r.HTTPCode), maxSmallint), clamp(int64(r.ErrorCode), maxTinyint),
				nullString(clip(string(r.KeywordRule), shortLen)),
				clamp(r.RTT.Milliseconds(), maxInt), phaseMs(r.DNS), phaseMs(r.TCP), phaseMs(r.TLS), phaseMs(r.TTFB),
				nullUint16(r.TLSVersion), nullUint16(r.CipherSuite), nullSeconds(r.SSLExpiry))
		}
		out = append(out, statement{query: valuesList(historyInsert, historyRow, len(part), ""), args: args})
	}
	return out
}

// rollupStatements adds rs in chunks, ordered by (blog_id, hour) so
// concurrent writers lock rows in one order.
func rollupStatements(rs []Rollup, chunk int) []statement {
	sorted := slices.SortedFunc(slices.Values(rs), func(a, b Rollup) int {
		return cmp.Or(cmp.Compare(a.BlogID, b.BlogID), a.Hour.Compare(b.Hour))
	})
	var out []statement
	for part := range slices.Chunk(sorted, chunk) {
		args := make([]any, 0, len(part)*rollupCols)
		for _, r := range part {
			var minMs, maxMs any // NULL without samples
			if r.RTTSamples > 0 {
				minMs, maxMs = clamp(r.RTTMinMs, maxInt), clamp(r.RTTMaxMs, maxInt)
			}
			args = append(args,
				r.BlogID, r.Hour.UTC().Truncate(time.Hour),
				clamp(int64(r.Checks), maxInt), clamp(int64(r.Failures), maxInt), clamp(int64(r.RTTSamples), maxInt),
				clamp(r.RTTSumMs, math.MaxInt64), minMs, maxMs,
				clamp(r.DNSSumMs, math.MaxInt64), clamp(r.TCPSumMs, math.MaxInt64),
				clamp(r.TLSSumMs, math.MaxInt64), clamp(r.TTFBSumMs, math.MaxInt64))
		}
		out = append(out, statement{query: valuesList(rollupInsert, rollupRow, len(part), rollupUpdate), args: args})
	}
	return out
}

// lastCheckedStatements sets last_checked_at of every row of each blog, in
// chunks of blogs in blog_id order. It never moves the column backwards (a
// result published late after a reassignment), and keeps updated_at.
func lastCheckedStatements(m map[int64]time.Time, chunk int) []statement {
	return caseUpdates(m, chunk,
		"UPDATE jetpack_monitor_sites SET last_checked_at = GREATEST("+
			"COALESCE(last_checked_at, CAST('1000-01-01 00:00:00' AS DATETIME)), CAST(",
		" AS DATETIME)), updated_at = updated_at WHERE blog_id IN (",
		func(t time.Time) any { return t.UTC().Truncate(time.Second) })
}

// sslExpiryStatements sets ssl_expiry_date (a DATE) of every row of each
// blog, keeping updated_at; a date outside DATE's range clears it.
func sslExpiryStatements(m map[int64]time.Time, chunk int) []statement {
	return caseUpdates(m, chunk,
		"UPDATE jetpack_monitor_sites SET ssl_expiry_date = ",
		", updated_at = updated_at WHERE blog_id IN (",
		func(t time.Time) any {
			if !inDatetimeRange(t) {
				return nil
			}
			return t.UTC().Format(time.DateOnly)
		})
}

// caseUpdates builds, per chunk of blogs in blog_id order,
// head + "CASE blog_id WHEN ? THEN ? ... END" + mid + "?, ...)".
func caseUpdates(m map[int64]time.Time, chunk int, head, mid string, value func(time.Time) any) []statement {
	var out []statement
	for part := range slices.Chunk(slices.Sorted(maps.Keys(m)), chunk) {
		var q strings.Builder
		q.Grow(len(head) + len(mid) + len(part)*20 + 32)
		q.WriteString(head)
		q.WriteString("CASE blog_id")
		args := make([]any, 0, len(part)*3)
		for _, id := range part {
			q.WriteString(" WHEN ? THEN ?")
			args = append(args, id, value(m[id]))
		}
		q.WriteString(" END")
		q.WriteString(mid)
		for i, id := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('?')
			args = append(args, id)
		}
		q.WriteByte(')')
		out = append(out, statement{query: q.String(), args: args})
	}
	return out
}

// valuesList returns head followed by n copies of row separated by commas,
// then tail.
func valuesList(head, row string, n int, tail string) string {
	var q strings.Builder
	q.Grow(len(head) + n*(len(row)+2) + len(tail))
	q.WriteString(head)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	q.WriteString(tail)
	return q.String()
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// clamp limits v to 0..hi.
func clamp(v, hi int64) int64 {
	return min(max(v, 0), hi)
}

// phaseMs is a phase duration in milliseconds, NULL when the phase did not
// complete (zero).
func phaseMs(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return clamp(d.Milliseconds(), maxInt)
}

// nullString is s, NULL when empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullUint16 is v, NULL when zero.
func nullUint16(v uint16) any {
	if v == 0 {
		return nil
	}
	return v
}

// nullSeconds is *t in UTC to the second (a DATETIME column), NULL when nil
// or outside DATETIME's range (a certificate can claim any year).
func nullSeconds(t *time.Time) any {
	if t == nil || !inDatetimeRange(*t) {
		return nil
	}
	return t.UTC().Truncate(time.Second)
}

// inDatetimeRange reports whether t fits DATETIME and DATE (years 1000-9999).
func inDatetimeRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1000 && y <= 9999
}
