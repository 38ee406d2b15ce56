package api

import (
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// seedConfirmedOutage is a Down event confirmed by verifliers in two
// regions, its votes stored as the coordinator writes them (JSON numbers
// decoded as float64).
func seedConfirmedOutage(h *harness, blogID int64) uptime.Event {
	ev := h.seedEvent(uptime.Event{BlogID: blogID, Severity: uptime.SeverityDown, State: uptime.StateDown,
		StartedAt: t0.Add(-10 * time.Minute), Metadata: map[string]any{"http_code": float64(503)}})
	votes := []any{
		map[string]any{"region": "us", "node_id": "vf-us-2", "up": false, "http_code": float64(503), "error_code": float64(0),
			"rtt_ms": float64(80), "checked_at": t0.Add(-8 * time.Minute).Format(time.RFC3339Nano)},
		map[string]any{"region": "eu", "node_id": "vf-eu-1", "up": false, "http_code": float64(0), "error_code": float64(1), "rtt_ms": float64(10000)},
		map[string]any{"region": "us", "node_id": "vf-us-1", "up": true, "http_code": float64(200), "rtt_ms": float64(90)},
	}
	seemsDown, down := uptime.SeveritySeemsDown, uptime.SeverityDown
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	h.db.transitions = append(h.db.transitions, uptime.Transition{ID: h.db.id(), EventID: ev.ID, BlogID: blogID,
		SeverityBefore: &seemsDown, SeverityAfter: &down, StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateDown,
		Reason: uptime.ReasonVerifierConfirmed, Source: "verifier", ChangedAt: t0.Add(-7 * time.Minute),
		Metadata: map[string]any{"votes": votes, "verifier_quorum": float64(2), "verifier_responders": float64(3)}})
	return ev
}

func TestEventDetailCarriesConfirmationEvidence(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	ev := seedConfirmedOutage(h, 1)
	for _, path := range []string{"/api/v1/events/" + itoa(ev.ID), "/api/v1/sites/1/events/" + itoa(ev.ID)} {
		var d EventDetail
		must(t, h.get(path, tokRead), 200).json(t, &d)
		if len(d.Transitions) != 2 || d.TransitionCount != 2 || len(d.Confirmations) != 1 || d.DurationMs != (10*time.Minute).Milliseconds() {
			t.Fatalf("%s: %+v", path, d)
		}
		c := d.Confirmations[0]
		us, eu := c.VotesByRegion["us"], c.VotesByRegion["eu"]
		if deref(c.Quorum) != 2 || c.Responders != 3 || c.Confirmed != 2 || c.Disagreed != 1 || len(us) != 2 || len(eu) != 1 ||
			us[0].NodeID != "vf-us-1" || !us[0].Up || eu[0].ErrorCode != 1 || us[1].CheckedAt == nil {
			t.Errorf("%s: confirmation = %+v", path, c)
		}
	}
	if r := must(t, h.get("/api/v1/sites/2/events/"+itoa(ev.ID), tokRead), 404); r.code() != "site_not_found" {
		t.Errorf("unknown site: %s", r.body)
	}
}

func TestEventListFiltersAndCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	closed := h.seedEvent(uptime.Event{BlogID: 1, Severity: 1, State: uptime.StateWarning, CheckType: uptime.CheckTypeTLSExpiry,
		StartedAt: t0.Add(-48 * time.Hour), EndedAt: t0.Add(-47 * time.Hour), ResolutionReason: uptime.ReasonProbeCleared})
	open := seedConfirmedOutage(h, 1)
	tests := map[string]struct {
		query string
		want  []int64
	}{
		"all, newest first": {"", []int64{open.ID, closed.ID}},
		"open only":         {"?active=true", []int64{open.ID}},
		"by check type":     {"?check_type=tls_expiry", []int64{closed.ID}},
		"by state list":     {"?state__in=Warning,Degraded", []int64{closed.ID}},
		"started window":    {"?started_at__gte=" + t0.Add(-time.Hour).Format(time.RFC3339), []int64{open.ID}},
		"started before":    {"?started_at__lt=" + t0.Add(-time.Hour).Format(time.RFC3339), []int64{closed.ID}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var list List[Event]
			must(t, h.get("/api/v1/sites/1/events"+tc.query, tokRead), 200).json(t, &list)
			var got []int64
			for _, e := range list.Data {
				got = append(got, e.ID)
				if e.ID == open.ID && (e.TransitionCount != 2 || e.EndedAt != nil) {
					t.Errorf("open event = %+v", e)
				}
			}
			if !equalIDs(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
	if r := must(t, h.get("/api/v1/sites/1/events?state=Up&state__in=Down", tokRead), 400); r.code() != "invalid_state_filter" {
		t.Errorf("state with state__in: %s", r.body)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	// In the last 24 h: two overlapping down events (union 3 h), a false
	// alarm (not down), a degraded hour, and a down event from before the
	// window that ends 1 h into it.
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0.Add(-10 * time.Hour), EndedAt: t0.Add(-8 * time.Hour)})
	h.seedEvent(uptime.Event{BlogID: 1, CheckType: "tls_expiry", Severity: 3, State: uptime.StateSeemsDown, StartedAt: t0.Add(-9 * time.Hour), EndedAt: t0.Add(-7 * time.Hour)})
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 3, State: uptime.StateSeemsDown, StartedAt: t0.Add(-5 * time.Hour), EndedAt: t0.Add(-4 * time.Hour), ResolutionReason: uptime.ReasonFalseAlarm})
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 2, State: uptime.StateDegraded, StartedAt: t0.Add(-3 * time.Hour), EndedAt: t0.Add(-2 * time.Hour)})
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0.Add(-30 * time.Hour), EndedAt: t0.Add(-23 * time.Hour)})
	h.db.mu.Lock()
	h.db.rollups = []uptime.HourlyRollup{
		{BlogID: 1, Hour: t0.Add(-2 * time.Hour), Checks: 60, Failures: 2, RTTSamples: 58, SumRTTMs: 5800, MinRTTMs: ptr(int64(50)), MaxRTTMs: ptr(int64(400)),
			SumDNSMs: 580, SumTCPMs: 1160, SumTLSMs: 1740, SumTTFBMs: 2320},
		{BlogID: 1, Hour: t0.Add(-time.Hour), Checks: 60, RTTSamples: 60, SumRTTMs: 12000, MinRTTMs: ptr(int64(40)), MaxRTTMs: ptr(int64(300))},
		{BlogID: 1, Hour: t0.Add(-48 * time.Hour), Checks: 60, RTTSamples: 60, SumRTTMs: 60},
	}
	h.db.mu.Unlock()
	var up UptimeResponse
	must(t, h.get("/api/v1/sites/1/uptime", tokRead), 200).json(t, &up)
	want := UptimeResponse{Window: Window{From: t0.Add(-24 * time.Hour), To: t0}, TotalSeconds: 86400, DownSeconds: 4 * 3600,
		DegradedSeconds: 3600, IncidentCount: 3, UptimePercent: 83.333, MTTRSeconds: ptr(int64(4800)), MTBFSeconds: ptr(int64(24000)),
		Checks: 120, FailedChecks: 2}
	if up.Window != want.Window || up.DownSeconds != want.DownSeconds || up.DegradedSeconds != want.DegradedSeconds ||
		up.IncidentCount != want.IncidentCount || up.UptimePercent != want.UptimePercent || deref(up.MTTRSeconds) != 4800 ||
		deref(up.MTBFSeconds) != 24000 || up.Checks != 120 || up.FailedChecks != 2 {
		t.Errorf("uptime = %+v\nwant     %+v", up, want)
	}
	var rt ResponseTimeResponse
	must(t, h.get("/api/v1/sites/1/response-time?window=1d", tokRead), 200).json(t, &rt)
	if rt.Samples != 118 || deref(rt.MeanMs) != 151 || deref(rt.MinMs) != 40 || deref(rt.MaxMs) != 400 || len(rt.Hourly) != 2 {
		t.Errorf("response time = %+v", rt)
	}
	var tb TimingBreakdownResponse
	from, to := t0.Add(-2*time.Hour).Format(time.RFC3339), t0.Add(-time.Hour).Format(time.RFC3339)
	must(t, h.get("/api/v1/sites/1/timing-breakdown?from="+from+"&to="+to, tokRead), 200).json(t, &tb)
	if tb.Samples != 58 || deref(tb.MeanDNSMs) != 10 || deref(tb.MeanTCPMs) != 20 || deref(tb.MeanTLSMs) != 30 || deref(tb.MeanTTFBMs) != 40 {
		t.Errorf("timing breakdown = %+v", tb)
	}
	for _, q := range []string{"?from=" + to + "&to=" + from, "?from=" + from, "?window=2d"} {
		if r := h.get("/api/v1/sites/1/uptime"+q, tokRead); r.code() != "invalid_window" {
			t.Errorf("%s: %s", q, r.body)
		}
	}
	var empty TimingBreakdownResponse
	must(t, h.get("/api/v1/sites/1/timing-breakdown?from="+t0.Add(-10*time.Hour).Format(time.RFC3339)+"&to="+from, tokRead), 200).json(t, &empty)
	if empty.Samples != 0 || empty.MeanDNSMs != nil {
		t.Errorf("no samples: %+v", empty)
	}
}
