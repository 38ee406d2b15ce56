package coordinator

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

const propertySeeds = 400

// randomCase draws a rollout range and a prober set.
func randomCase(rng *rand.Rand, equal bool) (uptime.BucketRange, []Candidate) {
	lo := rng.IntN(500)
	r := uptime.BucketRange{Min: lo, Max: lo + rng.IntN(2000)}
	probers := make([]Candidate, 1+rng.IntN(16))
	for i := range probers {
		c := 1
		if !equal {
			c = rng.IntN(12) - 1 // includes 0 and -1, which count as 1
		}
		probers[i] = Candidate{NodeID: "p" + strconv.Itoa(rng.IntN(1000)) + "-" + strconv.Itoa(i), Region: "r" + strconv.Itoa(i%3), Capacity: c}
	}
	return r, probers
}

func weight(c Candidate) float64 { return float64(min(max(c.Capacity, 1), maxWeight)) }

// owners maps each bucket of r to its owner in a ("" for none).
func owners(t *testing.T, r uptime.BucketRange, a map[string][]uptime.BucketRange) []string {
	t.Helper()
	out := make([]string, r.Len())
	for id, ranges := range a {
		for _, rg := range ranges {
			for b := rg.Min; b <= rg.Max; b++ {
				if !r.Contains(b) {
					t.Fatalf("%s owns bucket %d outside %v", id, b, r)
				}
				if out[b-r.Min] != "" {
					t.Fatalf("bucket %d owned by %s and %s", b, out[b-r.Min], id)
				}
				out[b-r.Min] = id
			}
		}
	}
	return out
}

// moved counts buckets owned in before whose owner differs in after.
func moved(t *testing.T, r uptime.BucketRange, before, after map[string][]uptime.BucketRange) int {
	t.Helper()
	b, a := owners(t, r, before), owners(t, r, after)
	n := 0
	for i := range b {
		if b[i] != "" && b[i] != a[i] {
			n++
		}
	}
	return n
}

// checkLayout asserts coverage, no overlap, one contiguous range per prober
// and sizes within one bucket of the exact quota.
func checkLayout(t *testing.T, r uptime.BucketRange, probers []Candidate, got map[string][]uptime.BucketRange) {
	t.Helper()
	cands := uniqueCandidates(probers)
	if len(got) != len(cands) {
		t.Fatalf("%d entries for %d probers", len(got), len(cands))
	}
	for i, owner := range owners(t, r, got) {
		if owner == "" {
			t.Fatalf("bucket %d has no owner", r.Min+i)
		}
	}
	var total float64
	for _, c := range cands {
		total += weight(c)
	}
	for _, c := range cands {
		ranges, ok := got[c.NodeID]
		if !ok || len(ranges) > 1 {
			t.Fatalf("%s: ranges %v, want one entry with at most one range", c.NodeID, ranges)
		}
		size := 0
		if len(ranges) == 1 {
			size = ranges[0].Len()
		}
		if quota := float64(r.Len()) * weight(c) / total; math.Abs(float64(size)-quota) >= 1 {
			t.Fatalf("%s: %d buckets, quota %.3f", c.NodeID, size, quota)
		}
	}
}

func TestAssignLayoutProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		rng := rand.New(rand.NewPCG(seed, 1))
		r, probers := randomCase(rng, rng.IntN(2) == 0)
		var prev map[string][]uptime.BucketRange
		if rng.IntN(2) == 0 {
			_, other := randomCase(rng, false)
			prev = Assign(r, append(other, probers[:rng.IntN(len(probers))]...), nil)
		}
		got := Assign(r, probers, prev)
		checkLayout(t, r, probers, got)

		shuffled := slices.Clone(probers)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if again := Assign(r, shuffled, maps.Clone(prev)); !reflect.DeepEqual(again, got) {
			t.Fatalf("seed %d: not deterministic:\n%v\n%v", seed, got, again)
		}
		if stable := Assign(r, probers, got); r.Len() >= len(probers) && !reflect.DeepEqual(stable, got) {
			t.Fatalf("seed %d: reassigning the same set moved buckets:\n%v\n%v", seed, got, stable)
		}
	}
}

// idealJoin is the upper bound of buckets moved when joiner (weight w) is
// inserted at the best position into probers laid out with exact boundaries
// x_i: its share, plus each boundary left of it sliding left by
// x_i*w/(W+w) and each boundary right of it sliding right by (R-x_i)*w/(W+w).
func idealJoin(n int, probers []Candidate, w float64) float64 {
	x, total := idealBoundaries(n, probers)
	share := float64(n) * w / (total + w)
	best := math.Inf(1)
	for k := 0; k <= len(probers); k++ {
		cost := share
		for i := 1; i < len(probers); i++ {
			if i < k {
				cost += x[i] * w / (total + w)
			} else if i > k {
				cost += (float64(n) - x[i]) * w / (total + w)
			}
		}
		best = min(best, cost)
	}
	return best
}

// idealLeave is the same bound when probers[k] leaves: its share, plus the
// other boundaries sliding towards it by x_i*w/(W-w) or (R-x_i)*w/(W-w).
func idealLeave(n int, probers []Candidate, k int) float64 {
	x, total := idealBoundaries(n, probers)
	w := weight(probers[k])
	cost := float64(n) * w / total
	for i := 1; i < len(probers); i++ {
		if i < k {
			cost += x[i] * w / (total - w)
		} else if i > k+1 {
			cost += (float64(n) - x[i]) * w / (total - w)
		}
	}
	return cost
}

func totalWeight(probers []Candidate) float64 {
	var total float64
	for _, c := range probers {
		total += weight(c)
	}
	return total
}

// idealBoundaries returns x_i, the exact start of prober i, in layout order.
func idealBoundaries(n int, order []Candidate) ([]float64, float64) {
	var total float64
	for _, c := range order {
		total += weight(c)
	}
	x := make([]float64, len(order))
	var cum float64
	for i, c := range order {
		x[i] = float64(n) * cum / total
		cum += weight(c)
	}
	return x, total
}

// inOrder returns probers sorted by where a gives them buckets.
func inOrder(probers []Candidate, a map[string][]uptime.BucketRange) []Candidate {
	out := uniqueCandidates(probers)
	slices.SortStableFunc(out, func(x, y Candidate) int {
		return startOf(a[x.NodeID]) - startOf(a[y.NodeID])
	})
	return out
}

func startOf(ranges []uptime.BucketRange) int {
	if len(ranges) == 0 {
		return math.MaxInt32
	}
	return ranges[0].Min
}

// Bounded movement: a join or a leave moves at most the ideal displacement
// of the boundaries plus N+1 buckets of rounding (each of at most N+1
// boundaries lies within half a bucket of its ideal place before and after).
// The ideal itself is at most R/2, and about R/4 for a join with equal
// capacities.
func TestAssignMovementBounded(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		rng := rand.New(rand.NewPCG(seed, 2))
		r, probers := randomCase(rng, seed%2 == 0)
		probers = uniqueCandidates(probers)
		n, slack := r.Len(), float64(len(probers)+1)
		before := Assign(r, probers, nil)
		order := inOrder(probers, before)

		joiner := Candidate{NodeID: "joiner-" + strconv.Itoa(int(seed)), Capacity: 1 + rng.IntN(8)}
		join := Assign(r, append(slices.Clone(probers), joiner), before)
		checkLayout(t, r, append(slices.Clone(probers), joiner), join)
		got, bound := moved(t, r, before, join), idealJoin(n, order, weight(joiner))+slack
		if float64(got) > bound {
			t.Fatalf("seed %d: join of %v into %d probers over %d buckets moved %d, bound %.1f", seed, joiner, len(probers), n, got, bound)
		}
		// The best position is no worse than the mean of the two ends:
		// share*(N+1)/2, which is R/2 with equal capacities.
		share := float64(n) * weight(joiner) / (totalWeight(probers) + weight(joiner))
		if closed := min(float64(n), share*float64(len(probers)+1)/2) + slack; float64(got) > closed {
			t.Fatalf("seed %d: join moved %d, closed-form bound %.1f", seed, got, closed)
		}

		if len(order) < 2 {
			continue
		}
		k := rng.IntN(len(order))
		rest := slices.Delete(slices.Clone(order), k, k+1)
		leave := Assign(r, rest, before)
		checkLayout(t, r, rest, leave)
		got, bound = moved(t, r, before, leave), idealLeave(n, order, k)+slack
		if float64(got) > bound {
			t.Fatalf("seed %d: leave of position %d of %d over %d buckets moved %d, bound %.1f", seed, k, len(order), n, got, bound)
		}
	}
}

// With equal capacities a leaver's buckets go only to its two neighbours.
func TestAssignLeaverAbsorbedByNeighbours(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		rng := rand.New(rand.NewPCG(seed, 3))
		r, probers := randomCase(rng, true)
		if len(probers) < 2 || r.Len() < len(probers)*len(probers) {
			continue
		}
		before := Assign(r, probers, nil)
		order := inOrder(probers, before)
		k := rng.IntN(len(order))
		after := owners(t, r, Assign(r, slices.Delete(slices.Clone(order), k, k+1), before))
		neighbours := map[string]bool{}
		if k > 0 {
			neighbours[order[k-1].NodeID] = true
		}
		if k < len(order)-1 {
			neighbours[order[k+1].NodeID] = true
		}
		for _, rg := range before[order[k].NodeID] {
			for b := rg.Min; b <= rg.Max; b++ {
				if !neighbours[after[b-r.Min]] {
					t.Fatalf("seed %d: bucket %d of leaver %d/%d went to %s", seed, b, k, len(order), after[b-r.Min])
				}
			}
		}
	}
}

// The measured movement of R=1000 with equal capacities, pinned: a join at
// the best position, and the worst leave (an end prober). The ideal values
// are R(N+2)/(4(N+1)) for a join into an even N, R(N+1)/(4N) into an odd N,
// and R/2 for an end leaver; rounding adds a few buckets.
func TestAssignMovementPinned(t *testing.T) {
	t.Parallel()
	r := uptime.BucketRange{Min: 0, Max: 999}
	tests := []struct {
		n                   int
		wantJoin, wantLeave int
	}{
		{n: 1, wantJoin: 500, wantLeave: 0},
		{n: 2, wantJoin: 334, wantLeave: 500},
		{n: 3, wantJoin: 333, wantLeave: 500},
		{n: 4, wantJoin: 300, wantLeave: 500},
		{n: 5, wantJoin: 300, wantLeave: 500},
		{n: 8, wantJoin: 280, wantLeave: 500},
		{n: 16, wantJoin: 264, wantLeave: 504},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d", tt.n), func(t *testing.T) {
			t.Parallel()
			probers := make([]Candidate, tt.n)
			for i := range probers {
				probers[i] = Candidate{NodeID: fmt.Sprintf("p%02d", i), Capacity: 1}
			}
			before := Assign(r, probers, nil)
			join := Assign(r, append(slices.Clone(probers), Candidate{NodeID: "new", Capacity: 1}), before)
			if got := moved(t, r, before, join); got != tt.wantJoin {
				t.Errorf("join moved %d, want %d", got, tt.wantJoin)
			}
			worst := 0
			for k := range probers {
				if tt.n == 1 {
					break
				}
				after := Assign(r, slices.Delete(slices.Clone(probers), k, k+1), before)
				worst = max(worst, moved(t, r, before, after))
			}
			if worst != tt.wantLeave {
				t.Errorf("worst leave moved %d, want %d", worst, tt.wantLeave)
			}
		})
	}
}

func TestAssignExamples(t *testing.T) {
	t.Parallel()
	br := func(lo, hi int) []uptime.BucketRange { return []uptime.BucketRange{{Min: lo, Max: hi}} }
	tests := map[string]struct {
		r       uptime.BucketRange
		probers []Candidate
		prev    map[string][]uptime.BucketRange
		want    map[string][]uptime.BucketRange
	}{
		"no probers": {
			r: uptime.BucketRange{Min: 0, Max: 9}, want: map[string][]uptime.BucketRange{},
		},
		"cold start in node id order, weighted": {
			r:       uptime.BucketRange{Min: 10, Max: 19},
			probers: []Candidate{{NodeID: "b", Capacity: 3}, {NodeID: "a", Capacity: 1}, {NodeID: "c", Capacity: 1}},
			want:    map[string][]uptime.BucketRange{"a": br(10, 11), "b": br(12, 17), "c": br(18, 19)},
		},
		"previous order kept, departed prober absorbed by neighbours": {
			r:       uptime.BucketRange{Min: 0, Max: 8},
			probers: []Candidate{{NodeID: "a"}, {NodeID: "c"}},
			prev:    map[string][]uptime.BucketRange{"c": br(0, 2), "x": br(3, 5), "a": br(6, 8)},
			want:    map[string][]uptime.BucketRange{"c": br(0, 4), "a": br(5, 8)},
		},
		"joiner inserted in the middle": {
			r:       uptime.BucketRange{Min: 0, Max: 11},
			probers: []Candidate{{NodeID: "a"}, {NodeID: "b"}, {NodeID: "z"}},
			prev:    map[string][]uptime.BucketRange{"a": br(0, 5), "b": br(6, 11)},
			want:    map[string][]uptime.BucketRange{"a": br(0, 3), "z": br(4, 7), "b": br(8, 11)},
		},
		"more probers than buckets": {
			r:       uptime.BucketRange{Min: 5, Max: 5},
			probers: []Candidate{{NodeID: "a"}, {NodeID: "b"}},
			want:    map[string][]uptime.BucketRange{"a": br(5, 5), "b": nil},
		},
		"empty and duplicate ids dropped": {
			r:       uptime.BucketRange{Min: 0, Max: 3},
			probers: []Candidate{{NodeID: "a", Capacity: 1}, {NodeID: ""}, {NodeID: "a", Capacity: 3}},
			want:    map[string][]uptime.BucketRange{"a": br(0, 3)},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Assign(tt.r, tt.probers, tt.prev); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Assign = %v, want %v", got, tt.want)
			}
		})
	}
}
