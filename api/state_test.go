package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestStateDerivation is seed 000's rows: the worst open event (highest
// severity, then the earliest start) wins, in lists, single sites and
// write responses; without one the legacy site_status counts only while
// the projection is enabled.
func TestStateDerivation(t *testing.T) {
	t.Parallel()
	type ev struct {
		sev   uptime.Severity
		state uptime.State
		start time.Duration // before t0
	}
	tests := map[string]struct {
		projection bool
		legacy     uptime.LegacyStatus
		events     []ev
		state      uptime.State
		severity   uptime.Severity
		worst      int // index into events of the active event, -1 for none
	}{
		"no event, projection off, stale legacy down is Up": {false, uptime.LegacySiteConfirmedDown, nil, uptime.StateUp, 0, -1},
		"no event, projection off, stale seems down is Up":  {false, uptime.LegacySiteDown, nil, uptime.StateUp, 0, -1},
		"no event, projection on, legacy running":           {true, uptime.LegacySiteRunning, nil, uptime.StateUp, 0, -1},
		"no event, projection on, legacy seems down":        {true, uptime.LegacySiteDown, nil, uptime.StateSeemsDown, 3, -1},
		"no event, projection on, legacy confirmed down":    {true, uptime.LegacySiteConfirmedDown, nil, uptime.StateDown, 4, -1},
		"no event, projection on, legacy unknown value":     {true, 7, nil, uptime.StateUnknown, 0, -1},
		"one open event overrides the legacy column":        {true, uptime.LegacySiteRunning, []ev{{2, uptime.StateDegraded, time.Hour}}, uptime.StateDegraded, 2, 0},
		"highest severity wins":                             {false, 0, []ev{{1, uptime.StateWarning, 3 * time.Hour}, {4, uptime.StateDown, time.Hour}, {3, uptime.StateSeemsDown, 2 * time.Hour}}, uptime.StateDown, 4, 1},
		"severity tie: earliest started_at wins":            {false, 0, []ev{{3, uptime.StateSeemsDown, time.Hour}, {3, uptime.StateSeemsDown, 2 * time.Hour}}, uptime.StateSeemsDown, 3, 1},
		"open tls warning on an up site":                    {false, 0, []ev{{1, uptime.StateWarning, time.Hour}}, uptime.StateWarning, 1, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *Opts) { o.LegacyStatusProjection = tc.projection })
			h.seedSite(1, func(s *uptime.SiteConfig) { s.LegacyStatus = tc.legacy })
			h.seedSite(2) // a neighbour on the page with nothing open
			var ids []int64
			for i, e := range tc.events {
				checkType := uptime.CheckTypeHTTP
				if i > 0 {
					checkType = uptime.CheckTypeTLSExpiry // one open event per identity
				}
				got := h.seedEvent(uptime.Event{BlogID: 1, CheckType: checkType, Severity: e.sev, State: e.state, StartedAt: t0.Add(-e.start)})
				ids = append(ids, got.ID)
			}
			var wantEvent *int64
			if tc.worst >= 0 {
				wantEvent = &ids[tc.worst]
			}
			check := func(where string, s Site) {
				t.Helper()
				if s.CurrentState != tc.state || s.CurrentSeverity != tc.severity || !sameID(s.ActiveEventID, wantEvent) {
					t.Errorf("%s: state %q severity %d event %v, want %q %d %v", where, s.CurrentState, s.CurrentSeverity,
						deref(s.ActiveEventID), tc.state, tc.severity, deref(wantEvent))
				}
			}
			var list List[Site]
			must(t, h.get("/api/v1/sites", tokRead), 200).json(t, &list)
			check("list", list.Data[0])
			var one SiteDetail
			must(t, h.get("/api/v1/sites/1", tokRead), 200).json(t, &one)
			check("get", one.Site)
			if len(one.ActiveEvents) != len(tc.events) || (len(ids) > 0 && one.ActiveEvents[0].ID != *wantEvent) {
				t.Errorf("active_events = %+v, want %d worst first", one.ActiveEvents, len(tc.events))
			}
			var patched SiteDetail
			must(t, h.do(req{method: http.MethodPatch, path: "/api/v1/sites/1", token: tokWrite, body: `{"check_interval":3}`}), 200).json(t, &patched)
			check("write response", patched.Site)
		})
	}
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// TestListStateIsOneQueryPerPage: the page's open events are read with one
// OpenEvents call over its blog ids.
func TestListStateIsOneQueryPerPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for id := int64(1); id <= 5; id++ {
		h.seedSite(id)
	}
	h.seedEvent(uptime.Event{BlogID: 3, Severity: 4, State: uptime.StateDown, StartedAt: t0})
	counter := &countingEvents{fakeDB: h.db}
	h2 := newHarness(t, func(o *Opts) { o.Events = counter; o.Sites = h.db })
	var list List[Site]
	must(t, h2.get("/api/v1/sites?limit=5", tokRead), 200).json(t, &list)
	if counter.calls != 1 || len(list.Data) != 5 || list.Data[2].CurrentState != uptime.StateDown {
		t.Errorf("OpenEvents calls = %d, rows %d, site 3 %q", counter.calls, len(list.Data), list.Data[2].CurrentState)
	}
}

type countingEvents struct {
	*fakeDB
	calls int
}

func (c *countingEvents) OpenEvents(ctx context.Context, ids []int64) ([]uptime.Event, error) {
	c.calls++
	return c.fakeDB.OpenEvents(ctx, ids)
}

func TestSiteListFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	h.seedSite(2, func(s *uptime.SiteConfig) { s.Active = false; s.URL = "https://paused.example/" })
	h.seedSite(3)
	h.seedEvent(uptime.Event{BlogID: 3, Severity: 4, State: uptime.StateDown, StartedAt: t0})
	tests := map[string]struct {
		query string
		want  []int64
	}{
		"all":               {"", []int64{1, 2, 3}},
		"inactive":          {"?monitor_active=0", []int64{2}},
		"url contains":      {"?q=paused", []int64{2}},
		"state":             {"?state=Down", []int64{3}},
		"state__in":         {"?state__in=Up,Down", []int64{1, 2, 3}},
		"severity__gte":     {"?severity__gte=3", []int64{3}},
		"filters intersect": {"?monitor_active=true&state=Up", []int64{1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var list List[Site]
			must(t, h.get("/api/v1/sites"+tc.query, tokRead), 200).json(t, &list)
			var got []int64
			for _, s := range list.Data {
				got = append(got, s.ID)
			}
			if !equalIDs(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
