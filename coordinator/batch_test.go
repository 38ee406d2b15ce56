package coordinator

import (
	"reflect"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// result is a check of blogID at at: a success, or a timeout.
func result(blogID int64, success bool, at time.Time) uptime.ProbeResult {
	r := uptime.ProbeResult{Result: uptime.Result{BlogID: blogID, Success: success, CheckedAt: at, RTT: 100 * time.Millisecond}}
	if !success {
		r.ErrorCode = uptime.ErrorTimeout
	}
	return r
}

func TestKeepInHistory(t *testing.T) {
	t.Parallel()
	h := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return h.Add(time.Duration(min) * time.Minute) }
	withCode := func(r uptime.ProbeResult, code uptime.ErrorCode) uptime.ProbeResult { r.ErrorCode = code; return r }
	tests := map[string]struct {
		mem      historyMemory
		seen     bool
		r        uptime.ProbeResult
		want     bool
		wantNext historyMemory
	}{
		"first result, a failure": {
			r: result(1, false, at(5)), want: true, wantNext: historyMemory{success: false},
		},
		"first result, a success": {
			r: result(1, true, at(10)), want: true, wantNext: historyMemory{success: true, sampled: h},
		},
		"failure after success": {
			mem: historyMemory{success: true, sampled: h}, seen: true,
			r: result(1, false, at(20)), want: true, wantNext: historyMemory{success: false, sampled: h},
		},
		"repeated failure": {
			mem: historyMemory{success: false, sampled: h}, seen: true,
			r: result(1, false, at(21)), want: true, wantNext: historyMemory{success: false, sampled: h},
		},
		"recovery in the sampled window": {
			mem: historyMemory{success: false, sampled: h}, seen: true,
			r: result(1, true, at(30)), want: true, wantNext: historyMemory{success: true, sampled: h},
		},
		"second success of the window": {
			mem: historyMemory{success: true, sampled: h}, seen: true,
			r: result(1, true, at(40)), want: false, wantNext: historyMemory{success: true, sampled: h},
		},
		"first success of the next window": {
			mem: historyMemory{success: true, sampled: h}, seen: true,
			r: result(1, true, at(65)), want: true, wantNext: historyMemory{success: true, sampled: h.Add(time.Hour)},
		},
		"late success of an older window": {
			mem: historyMemory{success: true, sampled: h.Add(time.Hour)}, seen: true,
			r: result(1, true, at(59)), want: false, wantNext: historyMemory{success: true, sampled: h.Add(time.Hour)},
		},
		"deprecated TLS is a success": {
			mem: historyMemory{success: true, sampled: h}, seen: true,
			r: withCode(result(1, true, at(50)), uptime.ErrorTLSDeprecated), want: false, wantNext: historyMemory{success: true, sampled: h},
		},
		"keyword error on a 200 is a failure": {
			mem: historyMemory{success: true, sampled: h}, seen: true,
			r: withCode(result(1, true, at(50)), uptime.ErrorKeyword), want: true, wantNext: historyMemory{success: false, sampled: h},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, next := keepInHistory(tt.mem, tt.seen, tt.r, time.Hour)
			if got != tt.want || next != tt.wantNext {
				t.Errorf("keepInHistory = %v, %+v; want %v, %+v", got, next, tt.want, tt.wantNext)
			}
		})
	}
}

func TestBuildRollups(t *testing.T) {
	t.Parallel()
	h := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	timed := func(r uptime.ProbeResult, rtt, dns, tcp, tls, ttfb int) uptime.ProbeResult {
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		r.RTT, r.DNS, r.TCP, r.TLS, r.TTFB = ms(rtt), ms(dns), ms(tcp), ms(tls), ms(ttfb)
		return r
	}
	tests := map[string]struct {
		in   []uptime.ProbeResult
		want []Rollup
	}{
		"none": {want: []Rollup{}},
		"one site, one hour": {
			in: []uptime.ProbeResult{
				timed(result(1, true, h.Add(time.Minute)), 120, 10, 20, 30, 100),
				timed(result(1, false, h.Add(2*time.Minute)), 900, 5, 0, 0, 0),
				timed(result(1, true, h.Add(59*time.Minute)), 80, 1, 2, 3, 70),
			},
			want: []Rollup{{BlogID: 1, Hour: h, Checks: 3, Failures: 1, RTTSamples: 3, RTTSumMs: 1100, RTTMinMs: 80, RTTMaxMs: 900,
				DNSSumMs: 16, TCPSumMs: 22, TLSSumMs: 33, TTFBSumMs: 170}},
		},
		"a check without an RTT counts but has no sample": {
			in:   []uptime.ProbeResult{timed(result(1, false, h), 0, 0, 0, 0, 0), timed(result(1, true, h), 50, 0, 0, 0, 40)},
			want: []Rollup{{BlogID: 1, Hour: h, Checks: 2, Failures: 1, RTTSamples: 1, RTTSumMs: 50, RTTMinMs: 50, RTTMaxMs: 50, TTFBSumMs: 40}},
		},
		"only checks without an RTT": {
			in:   []uptime.ProbeResult{timed(result(1, false, h), 0, 0, 0, 0, 0)},
			want: []Rollup{{BlogID: 1, Hour: h, Checks: 1, Failures: 1}},
		},
		"sites and hours sorted, hours in UTC": {
			in: []uptime.ProbeResult{
				timed(result(2, true, h.Add(time.Hour).In(time.FixedZone("x", 5*3600+1800))), 10, 0, 0, 0, 0),
				timed(result(2, true, h), 30, 0, 0, 0, 0),
				timed(result(1, false, h.Add(90*time.Minute)), 5, 0, 0, 0, 0),
			},
			want: []Rollup{
				{BlogID: 1, Hour: h.Add(time.Hour), Checks: 1, Failures: 1, RTTSamples: 1, RTTSumMs: 5, RTTMinMs: 5, RTTMaxMs: 5},
				{BlogID: 2, Hour: h, Checks: 1, RTTSamples: 1, RTTSumMs: 30, RTTMinMs: 30, RTTMaxMs: 30},
				{BlogID: 2, Hour: h.Add(time.Hour), Checks: 1, RTTSamples: 1, RTTSumMs: 10, RTTMinMs: 10, RTTMaxMs: 10},
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := buildRollups(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("buildRollups =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestSplitFresh(t *testing.T) {
	t.Parallel()
	seqs := func(ds []Delivery) []uint64 {
		var out []uint64
		for _, d := range ds {
			out = append(out, d.Seq)
		}
		return out
	}
	tests := map[string]struct {
		in        []uint64
		watermark uint64
		want      []uint64
		wantDups  int
	}{
		"all new":                {in: []uint64{1, 2, 3}, want: []uint64{1, 2, 3}},
		"redelivered and new":    {in: []uint64{7, 4, 6, 5, 6}, watermark: 5, want: []uint64{6, 7}, wantDups: 3},
		"all at or below":        {in: []uint64{3, 5}, watermark: 5, wantDups: 2},
		"empty":                  {watermark: 9},
		"gaps (expired or term)": {in: []uint64{10, 12}, watermark: 5, want: []uint64{10, 12}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var in []Delivery
			for _, s := range tt.in {
				in = append(in, Delivery{Seq: s})
			}
			fresh, dups := splitFresh(in, tt.watermark)
			if got := seqs(fresh); !reflect.DeepEqual(got, tt.want) || dups != tt.wantDups {
				t.Errorf("splitFresh = %v, %d dups; want %v, %d", got, dups, tt.want, tt.wantDups)
			}
		})
	}
}

func TestIngestStateBuild(t *testing.T) {
	t.Parallel()
	h := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expiry := func(r uptime.ProbeResult, e time.Time) uptime.ProbeResult { r.SSLExpiry = &e; return r }
	certA, certB := h.AddDate(0, 3, 0), h.AddDate(1, 0, 0)
	s := newIngestState()

	first := s.build("c", 10, []Delivery{
		{Seq: 11, Result: expiry(result(1, true, h.Add(time.Minute)), certA)},
		{Seq: 12, Result: expiry(result(1, true, h.Add(2*time.Minute)), certA)},
		{Seq: 13, Result: expiry(result(4, true, h.Add(time.Minute)), certA)},
		{Seq: 14, Result: result(2, false, h.Add(3*time.Minute))},
	}, time.Hour)
	if first.Consumer != "c" || first.FromSeq != 10 || first.ToSeq != 14 {
		t.Errorf("batch %s %d..%d, want c 10..14", first.Consumer, first.FromSeq, first.ToSeq)
	}
	if got := historySeqs(first.History); !reflect.DeepEqual(got, []time.Time{h.Add(time.Minute), h.Add(time.Minute), h.Add(3 * time.Minute)}) {
		t.Errorf("history = %v, want the first successes of 1 and 4 and the failure of 2", got)
	}
	wantLast := map[int64]time.Time{1: h.Add(2 * time.Minute), 2: h.Add(3 * time.Minute), 4: h.Add(time.Minute)}
	if !reflect.DeepEqual(first.LastChecked, wantLast) {
		t.Errorf("last checked = %v, want %v", first.LastChecked, wantLast)
	}
	if want := map[int64]time.Time{1: certA, 4: certA}; !reflect.DeepEqual(first.SSLExpiry, want) {
		t.Errorf("ssl expiry = %v, want %v", first.SSLExpiry, want)
	}
	if len(first.Rollups) != 3 {
		t.Errorf("rollups = %+v, want one per site", first.Rollups)
	}

	second := s.build("c", 14, []Delivery{
		{Seq: 15, Result: expiry(result(1, true, h.Add(4*time.Minute)), certA)},
		{Seq: 16, Result: expiry(result(3, true, h.Add(4*time.Minute)), certB)},
		{Seq: 17, Result: expiry(result(1, true, h.Add(5*time.Minute)), certB)},
		{Seq: 18, Result: expiry(result(4, true, h.Add(5*time.Minute)), certA)},
	}, time.Hour)
	if want := map[int64]time.Time{1: certB, 3: certB}; !reflect.DeepEqual(second.SSLExpiry, want) {
		t.Errorf("ssl expiry = %v, want only the changed %v", second.SSLExpiry, want)
	}
	if got := historySeqs(second.History); !reflect.DeepEqual(got, []time.Time{h.Add(4 * time.Minute)}) {
		t.Errorf("history = %v, want only site 3's first result", got)
	}
}

func historySeqs(rs []uptime.ProbeResult) []time.Time {
	var out []time.Time
	for _, r := range rs {
		out = append(out, r.CheckedAt)
	}
	return out
}
