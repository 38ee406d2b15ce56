package prober

import (
	"container/heap"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// FNV-1a 64-bit parameters (hash/fnv), inlined so computing a phase does
// not allocate.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// phaseOf is a site's fixed offset within its interval: FNV-1a 64 of the
// blog id's 8 big-endian bytes, modulo the interval in nanoseconds. It
// depends only on the blog id and the interval, so every prober computes the
// same phase and a site that moves between probers keeps its rhythm.
func phaseOf(blogID int64, interval time.Duration) time.Duration {
	h := uint64(fnvOffset64)
	for shift := 56; shift >= 0; shift -= 8 {
		h ^= uint64(byte(uint64(blogID) >> shift))
		h *= fnvPrime64
	}
	return time.Duration(h % uint64(interval))
}

// alignedAtOrAfter is the first t >= at with (t - phase) % interval == 0 on
// the Unix nanosecond clock: the site's due times are fixed points of the
// wall clock, not of when this prober happened to learn about the site.
func alignedAtOrAfter(at time.Time, phase, interval time.Duration) time.Time {
	off := (at.UnixNano() - int64(phase)) % int64(interval)
	if off < 0 {
		off += int64(interval)
	}
	if off == 0 {
		return at
	}
	return at.Add(interval - time.Duration(off))
}

// entry is one scheduled site. Only the scheduling goroutine touches it.
type entry struct {
	spec     uptime.CheckSpec
	bucket   int
	interval time.Duration // max(site interval, MinCheckInterval)
	due      time.Time
	failures int  // consecutive failures so far
	index    int  // position in the heap; -1 while running or removed
	removed  bool // dropped from the cache while its check ran
}

// retrying reports whether the entry's next check is a quick re-check after
// a failure rather than a phase-aligned one.
func (e *entry) retrying(retries int) bool { return e.failures > 0 && e.failures < retries }

// schedule holds the sites this prober checks and when each is next due.
// It is not safe for concurrent use: the scheduling loop owns it.
type schedule struct {
	minInterval time.Duration // floor of every site's interval
	retryAfter  time.Duration // TimeBetweenChecks
	retries     int           // NumOfChecks
	sites       map[int64]*entry
	queue       dueHeap
}

func newSchedule(minInterval, retryAfter time.Duration, retries int) *schedule {
	return &schedule{
		minInterval: minInterval,
		retryAfter:  retryAfter,
		retries:     retries,
		sites:       make(map[int64]*entry),
	}
}

// len is the number of sites held, running ones included.
func (s *schedule) len() int { return len(s.sites) }

// upsert adds site or updates its spec. A new site is due at its next
// phase-aligned time. An updated site keeps its due time unless its interval
// changed (and it is not between quick re-checks), in which case it moves to
// its next aligned time of the new interval.
func (s *schedule) upsert(site uptime.Site, now time.Time) {
	interval := max(site.CheckInterval, s.minInterval)
	spec := site.Spec
	spec.BlogID = site.BlogID
	e, ok := s.sites[site.BlogID]
	if !ok {
		e = &entry{spec: spec, bucket: site.Bucket, interval: interval, index: -1}
		e.due = alignedAtOrAfter(now, phaseOf(site.BlogID, interval), interval)
		s.sites[site.BlogID] = e
		heap.Push(&s.queue, e)
		return
	}
	e.spec, e.bucket = spec, site.Bucket
	if interval == e.interval {
		return
	}
	e.interval = interval
	if e.index >= 0 && !e.retrying(s.retries) {
		e.due = alignedAtOrAfter(now, phaseOf(site.BlogID, interval), interval)
		heap.Fix(&s.queue, e.index)
	}
}

// remove drops the site's key <bucket>.<blogID>. A removal for another
// bucket than the site's current one is the stale key of a re-bucketed site
// and changes nothing.
func (s *schedule) remove(bucket int, blogID int64) bool {
	e, ok := s.sites[blogID]
	if !ok || e.bucket != bucket {
		return false
	}
	s.drop(e)
	return true
}

// prune drops every site whose bucket keep rejects and returns how many.
func (s *schedule) prune(keep func(bucket int) bool) int {
	n := 0
	for _, e := range s.sites {
		if !keep(e.bucket) {
			s.drop(e)
			n++
		}
	}
	return n
}

func (s *schedule) drop(e *entry) {
	delete(s.sites, e.spec.BlogID)
	if e.index >= 0 {
		heap.Remove(&s.queue, e.index)
	}
	e.removed = true
}

// peek is the next site due, or nil.
func (s *schedule) peek() *entry {
	if len(s.queue) == 0 {
		return nil
	}
	return s.queue[0]
}

// pop takes the next site due off the queue while its check runs.
func (s *schedule) pop() *entry {
	e, _ := heap.Pop(&s.queue).(*entry)
	return e
}

// complete puts a checked site back on the queue: after a failure with fewer
// than retries consecutive failures, TimeBetweenChecks after now; otherwise
// at the first aligned time after the check's due time. When the check ran
// so late that later aligned times have passed too, those slots merge into
// the next one at or after now (a site is never queued twice); complete
// returns how many slots merged.
func (s *schedule) complete(e *entry, failures int, now time.Time) (missed int) {
	if e.removed {
		return 0
	}
	e.failures = failures
	if e.retrying(s.retries) {
		e.due = now.Add(s.retryAfter)
		heap.Push(&s.queue, e)
		return 0
	}
	phase := phaseOf(e.spec.BlogID, e.interval)
	next := alignedAtOrAfter(e.due.Add(1), phase, e.interval)
	if next.Before(now) {
		caughtUp := alignedAtOrAfter(now, phase, e.interval)
		missed = int(caughtUp.Sub(next) / e.interval)
		next = caughtUp
	}
	e.due = next
	heap.Push(&s.queue, e)
	return missed
}

// dueHeap orders entries by due time, then blog id, so ties are stable.
type dueHeap []*entry

func (h dueHeap) Len() int { return len(h) }

func (h dueHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].spec.BlogID < h[j].spec.BlogID
}

func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *dueHeap) Push(x any) {
	e, _ := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *dueHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	e.index = -1
	*h = old[:n]
	return e
}
