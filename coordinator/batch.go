package coordinator

import (
	"cmp"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// historyMemory is what the history policy remembers of one site.
type historyMemory struct {
	success bool      // outcome of the site's previous result
	sampled time.Time // start of the sample window of the last success kept
}

// keepInHistory is the history policy. A result becomes a raw history row
// when it failed, when it is the site's first result this leader sees
// (seen false), when its outcome differs from the previous result's, or when
// it is the site's first success of a newer sample window (windows are
// CheckedAt truncated to sample). It returns the decision and the memory
// after r.
func keepInHistory(mem historyMemory, seen bool, r uptime.ProbeResult, sample time.Duration) (bool, historyMemory) {
	ok := !r.IsFailure()
	next := historyMemory{success: ok, sampled: mem.sampled}
	if !ok {
		return true, next
	}
	window := r.CheckedAt.Truncate(sample)
	keep := !seen || !mem.success || window.After(mem.sampled)
	if keep {
		next.sampled = window
	}
	return keep, next
}

// rollupKey is one site-hour.
type rollupKey struct {
	blogID int64
	hour   time.Time
}

// buildRollups aggregates results per site and UTC hour of CheckedAt,
// ordered by blog id then hour. The RTT figures and phase sums cover the
// checks that reported an RTT (RTT > 0), failures included.
func buildRollups(results []uptime.ProbeResult) []Rollup {
	byKey := make(map[rollupKey]*Rollup)
	for _, r := range results {
		k := rollupKey{blogID: r.BlogID, hour: r.CheckedAt.UTC().Truncate(time.Hour)}
		ru := byKey[k]
		if ru == nil {
			ru = &Rollup{BlogID: k.blogID, Hour: k.hour}
			byKey[k] = ru
		}
		ru.Checks++
		if r.IsFailure() {
			ru.Failures++
		}
		if r.RTT > 0 {
			addRTT(ru, r)
		}
	}
	out := make([]Rollup, 0, len(byKey))
	for _, ru := range byKey {
		out = append(out, *ru)
	}
	slices.SortFunc(out, func(a, b Rollup) int {
		return cmp.Or(cmp.Compare(a.BlogID, b.BlogID), a.Hour.Compare(b.Hour))
	})
	return out
}

// addRTT adds one check's RTT and phase timings to ru.
func addRTT(ru *Rollup, r uptime.ProbeResult) {
	rtt := r.RTT.Milliseconds()
	if ru.RTTSamples == 0 || rtt < ru.RTTMinMs {
		ru.RTTMinMs = rtt
	}
	ru.RTTMaxMs = max(ru.RTTMaxMs, rtt)
	ru.RTTSamples++
	ru.RTTSumMs += rtt
	ru.DNSSumMs += r.DNS.Milliseconds()
	ru.TCPSumMs += r.TCP.Milliseconds()
	ru.TLSSumMs += r.TLS.Milliseconds()
	ru.TTFBSumMs += r.TTFB.Milliseconds()
}

// ingestState is what one term's ingestion remembers per site: the history
// policy's memory and the last SSL expiry it wrote. It starts empty on each
// term, so a new leader writes each site's first result and expiry once.
type ingestState struct {
	history map[int64]historyMemory
	ssl     map[int64]time.Time
}

func newIngestState() *ingestState {
	return &ingestState{history: make(map[int64]historyMemory), ssl: make(map[int64]time.Time)}
}

// build turns the new deliveries (above fromSeq, in stream order) into one
// ingest batch and updates the state as if it commits: a batch that fails
// to commit is retried as built, or the term ends and the state with it.
func (s *ingestState) build(consumer string, fromSeq uint64, fresh []Delivery, sample time.Duration) IngestBatch {
	b := IngestBatch{
		Consumer:    consumer,
		FromSeq:     fromSeq,
		ToSeq:       fromSeq,
		LastChecked: make(map[int64]time.Time),
		SSLExpiry:   make(map[int64]time.Time),
	}
	results := make([]uptime.ProbeResult, len(fresh))
	for i, d := range fresh {
		r := d.Result
		results[i] = r
		b.ToSeq = max(b.ToSeq, d.Seq)
		mem, seen := s.history[r.BlogID]
		keep, next := keepInHistory(mem, seen, r, sample)
		s.history[r.BlogID] = next
		if keep {
			b.History = append(b.History, r)
		}
		if r.CheckedAt.After(b.LastChecked[r.BlogID]) {
			b.LastChecked[r.BlogID] = r.CheckedAt
		}
		if r.SSLExpiry != nil {
			if last, ok := s.ssl[r.BlogID]; !ok || !last.Equal(*r.SSLExpiry) {
				s.ssl[r.BlogID] = *r.SSLExpiry
				b.SSLExpiry[r.BlogID] = *r.SSLExpiry
			}
		}
	}
	b.Rollups = buildRollups(results)
	return b
}

// splitFresh returns the deliveries above watermark in stream order, without
// repeats, and how many it skipped as already committed or repeated.
func splitFresh(deliveries []Delivery, watermark uint64) (fresh []Delivery, dups int) {
	sorted := slices.Clone(deliveries)
	slices.SortStableFunc(sorted, func(a, b Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	high := watermark
	for _, d := range sorted {
		if d.Seq <= high {
			dups++
			continue
		}
		fresh = append(fresh, d)
		high = d.Seq
	}
	return fresh, dups
}
