package coordinator

import (
	"cmp"
	"slices"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Candidate is a live prober that assignment may give buckets to.
type Candidate struct {
	NodeID string
	Region string
	// Capacity is the prober's relative weight. Values below 1 count as 1
	// and values above 1<<20 as 1<<20, which keeps the arithmetic exact.
	Capacity int
}

// maxWeight caps a capacity so bucket count * total weight fits in int64.
const maxWeight = 1 << 20

// Assign splits r over probers: every bucket of r gets exactly one owner and
// each prober one contiguous range (none when it has more peers than r has
// buckets). Sizes are proportional to capacity: each is the floor or the
// ceiling of the prober's exact quota R*w/W. The boundaries are the exact
// cumulative quotas rounded to the nearest bucket, so each lies within half
// a bucket of its ideal place (plain largest remainder could drift a
// boundary by up to N/2 buckets, and that drift would move buckets
// needlessly on every change).
//
// prev is the current assignment. Probers that own part of r in prev keep
// their relative order (by where their range starts); each new prober, in
// node id order, is inserted where the fewest buckets change owner. A
// leaver's range is thus absorbed by its two neighbours while the other
// boundaries slide to restore proportions.
//
// Movement is the price of one contiguous range per prober: with equal
// capacities a join moves about R/4 buckets at best (R/(N+1) of them are the
// joiner's share) and a leave between R/4 (a middle prober) and R/2 (an end
// prober). assign_test.go pins these bounds.
//
// The result is deterministic: it does not depend on the order of probers.
// Entries with an empty NodeID are ignored; of duplicate ids the first wins.
func Assign(r uptime.BucketRange, probers []Candidate, prev map[string][]uptime.BucketRange) map[string][]uptime.BucketRange {
	cands := uniqueCandidates(probers)
	out := make(map[string][]uptime.BucketRange, len(cands))
	if len(cands) == 0 || r.Len() <= 0 {
		return out
	}
	owned := clippedRanges(r, prev)
	order, joiners := splitByPrevious(cands, owned)
	for _, j := range joiners {
		order = insertBest(r, order, j, owned)
	}
	for i, rg := range layout(r, order) {
		if rg.Len() > 0 {
			out[order[i].NodeID] = []uptime.BucketRange{rg}
		} else {
			out[order[i].NodeID] = nil
		}
	}
	return out
}

// uniqueCandidates sorts probers by node id, drops empty and duplicate ids
// and clamps capacities to 1..maxWeight.
func uniqueCandidates(probers []Candidate) []Candidate {
	cands := slices.Clone(probers)
	slices.SortStableFunc(cands, func(a, b Candidate) int { return cmp.Compare(a.NodeID, b.NodeID) })
	cands = slices.CompactFunc(cands, func(a, b Candidate) bool { return a.NodeID == b.NodeID })
	cands = slices.DeleteFunc(cands, func(c Candidate) bool { return c.NodeID == "" })
	for i := range cands {
		cands[i].Capacity = min(max(cands[i].Capacity, 1), maxWeight)
	}
	return cands
}

// clippedRanges is prev restricted to r, without empty ranges.
func clippedRanges(r uptime.BucketRange, prev map[string][]uptime.BucketRange) map[string][]uptime.BucketRange {
	out := make(map[string][]uptime.BucketRange, len(prev))
	for id, ranges := range prev {
		for _, rg := range ranges {
			c := uptime.BucketRange{Min: max(rg.Min, r.Min), Max: min(rg.Max, r.Max)}
			if c.Len() > 0 {
				out[id] = append(out[id], c)
			}
		}
	}
	return out
}

// splitByPrevious returns the probers that own part of r, ordered by where
// their previous ranges start, and the others (still in node id order).
func splitByPrevious(cands []Candidate, owned map[string][]uptime.BucketRange) (order, joiners []Candidate) {
	start := make(map[string]int, len(cands))
	for _, c := range cands {
		ranges := owned[c.NodeID]
		if len(ranges) == 0 {
			joiners = append(joiners, c)
			continue
		}
		start[c.NodeID] = slices.MinFunc(ranges, func(a, b uptime.BucketRange) int { return cmp.Compare(a.Min, b.Min) }).Min
		order = append(order, c)
	}
	slices.SortStableFunc(order, func(a, b Candidate) int { return cmp.Compare(start[a.NodeID], start[b.NodeID]) })
	return order, joiners
}

// insertBest inserts j where the most buckets keep their previous owner; on
// a tie the later position wins, so a cold start keeps node id order.
func insertBest(r uptime.BucketRange, order []Candidate, j Candidate, owned map[string][]uptime.BucketRange) []Candidate {
	var best []Candidate
	bestKept := -1
	for pos := 0; pos <= len(order); pos++ {
		trial := slices.Insert(slices.Clone(order), pos, j)
		if kept := keptBuckets(r, trial, owned); kept >= bestKept {
			best, bestKept = trial, kept
		}
	}
	return best
}

// keptBuckets counts the buckets whose owner under order's layout is the
// same as in owned.
func keptBuckets(r uptime.BucketRange, order []Candidate, owned map[string][]uptime.BucketRange) int {
	kept := 0
	for i, rg := range layout(r, order) {
		for _, p := range owned[order[i].NodeID] {
			kept += max(0, min(rg.Max, p.Max)-max(rg.Min, p.Min)+1)
		}
	}
	return kept
}

// layout cuts r into one range per prober of order, proportional to
// capacity: boundary i is the cumulative quota rounded half up. A range
// with Min > Max is empty.
func layout(r uptime.BucketRange, order []Candidate) []uptime.BucketRange {
	var total int64
	for _, c := range order {
		total += int64(c.Capacity)
	}
	n := int64(r.Len())
	out := make([]uptime.BucketRange, len(order))
	var cum int64
	next := r.Min
	for i, c := range order {
		cum += int64(c.Capacity)
		end := r.Min + int((2*n*cum+total)/(2*total)) // exclusive
		out[i] = uptime.BucketRange{Min: next, Max: end - 1}
		next = end
	}
	return out
}
