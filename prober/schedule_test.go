package prober

import (
	"encoding/binary"
	"hash/fnv"
	"testing"
	"time"
)

func TestPhaseIsFNV1a64OfBlogID(t *testing.T) {
	t.Parallel()
	for _, id := range []int64{0, 1, 42, 123456789, -7, 1 << 62} {
		for _, iv := range []time.Duration{5 * time.Second, time.Minute, 5 * time.Minute} {
			h := fnv.New64a()
			_, _ = h.Write(binary.BigEndian.AppendUint64(nil, uint64(id)))
			want := time.Duration(h.Sum64() % uint64(iv))
			if got := phaseOf(id, iv); got != want {
				t.Errorf("phaseOf(%d, %v) = %v, want %v", id, iv, got, want)
			}
		}
	}
}

func TestAlignedAtOrAfter(t *testing.T) {
	t.Parallel()
	base := time.Unix(1_700_000_040, 0) // a multiple of 60 s
	tests := map[string]struct {
		at    time.Time
		phase time.Duration
		want  time.Time
	}{
		"exactly aligned":     {base.Add(7 * time.Second), 7 * time.Second, base.Add(7 * time.Second)},
		"just after a slot":   {base.Add(7*time.Second + 1), 7 * time.Second, base.Add(67 * time.Second)},
		"before the phase":    {base.Add(3 * time.Second), 7 * time.Second, base.Add(7 * time.Second)},
		"zero phase":          {base.Add(59 * time.Second), 0, base.Add(60 * time.Second)},
		"phase just under iv": {base, 59*time.Second + 999*time.Millisecond, base.Add(59*time.Second + 999*time.Millisecond)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := alignedAtOrAfter(tc.at, tc.phase, time.Minute); !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got.Sub(base), tc.want.Sub(base))
			}
		})
	}
}

// Sites spread evenly over the interval: 60,000 consecutive blog ids at
// 60 s put close to 1,000 checks in every second of the minute.
func TestPhaseSpreadsSitesEvenly(t *testing.T) {
	t.Parallel()
	const sites, interval = 60_000, time.Minute
	var perSecond [60]int
	for id := int64(1); id <= sites; id++ {
		perSecond[phaseOf(id, interval)/time.Second]++
	}
	for sec, n := range perSecond {
		// Binomial sd is about 31; 15 % is about 5 sd.
		if n < 850 || n > 1150 {
			t.Errorf("second %d holds %d sites, want 1000 ± 150", sec, n)
		}
	}
}

func TestScheduleUpsertKeepsPhase(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := map[string]struct {
		change      func(*schedule)
		wantRealign bool
		newInterval time.Duration
	}{
		"spec change keeps due time": {
			change: func(s *schedule) {
				u := site(7, 1, time.Minute)
				u.Spec.URL = "https://changed.test/"
				s.upsert(u, now.Add(10*time.Second))
			},
			newInterval: time.Minute,
		},
		"interval change moves to the new phase": {
			change:      func(s *schedule) { s.upsert(site(7, 1, 5*time.Minute), now.Add(10*time.Second)) },
			wantRealign: true,
			newInterval: 5 * time.Minute,
		},
		"interval under the floor uses the floor": {
			change:      func(s *schedule) { s.upsert(site(7, 1, time.Second), now.Add(10*time.Second)) },
			newInterval: time.Minute,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newSchedule(time.Minute, 30*time.Second, 3)
			s.upsert(site(7, 1, time.Minute), now)
			before := s.peek().due
			tc.change(s)
			e := s.peek()
			if e.interval != tc.newInterval {
				t.Errorf("interval %v, want %v", e.interval, tc.newInterval)
			}
			if !aligned(e.due, 7, e.interval) {
				t.Errorf("due %v not aligned to interval %v", e.due, e.interval)
			}
			if moved := !e.due.Equal(before); moved != tc.wantRealign {
				t.Errorf("due moved %v (from %v to %v), want moved=%v", moved, before, e.due, tc.wantRealign)
			}
		})
	}
}

func TestScheduleRemoveIgnoresStaleBucketKey(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	s := newSchedule(time.Minute, 30*time.Second, 3)
	s.upsert(site(7, 1, time.Minute), now)
	s.upsert(site(7, 2, time.Minute), now) // re-bucketed: put of the new key first
	if s.remove(1, 7) {
		t.Fatal("removing the old key 1.7 dropped the site now in bucket 2")
	}
	if s.len() != 1 {
		t.Fatalf("len %d, want 1", s.len())
	}
	if !s.remove(2, 7) || s.len() != 0 || s.peek() != nil {
		t.Fatal("removing 2.7 left the site scheduled")
	}
}

func TestScheduleCompleteMergesMissedSlots(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	s := newSchedule(time.Minute, 30*time.Second, 3)
	s.upsert(site(7, 1, time.Minute), now)
	e := s.pop()
	due := e.due
	tests := []struct {
		name       string
		doneAt     time.Time
		wantDue    time.Time
		wantMissed int
	}{
		{"on time", due.Add(time.Second), due.Add(time.Minute), 0},
		{"late within the interval", due.Add(50 * time.Second), due.Add(time.Minute), 0},
		{"done just after the next slot", due.Add(time.Minute + 1), due.Add(2 * time.Minute), 1},
		{"three slots late", due.Add(3*time.Minute + 5*time.Second), due.Add(4 * time.Minute), 3},
	}
	for _, tc := range tests {
		e.due = due
		if missed := s.complete(e, 0, tc.doneAt); missed != tc.wantMissed {
			t.Errorf("%s: missed %d, want %d", tc.name, missed, tc.wantMissed)
		}
		if !e.due.Equal(tc.wantDue) {
			t.Errorf("%s: next due %v, want %v", tc.name, e.due.Sub(due), tc.wantDue.Sub(due))
		}
		s.pop()
	}
}
