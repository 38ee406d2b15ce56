package api

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestCloseEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Opts) { o.LegacyStatusProjection = true })
	h.seedSite(1, func(s *uptime.SiteConfig) { s.LegacyStatus = uptime.LegacySiteConfirmedDown })
	h.seedSite(2)
	ev := h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0.Add(-time.Hour)})
	path := "/api/v1/sites/1/events/" + itoa(ev.ID) + "/close"

	if r := must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/2/events/" + itoa(ev.ID) + "/close", token: tokWrite}), 404); r.code() != "event_not_found" {
		t.Errorf("another site's event: %s", r.body)
	}
	if r := must(t, h.do(req{method: http.MethodPost, path: path, token: tokWrite, body: `{"reason":"verifier_confirmed"}`}), 422); r.code() != "invalid_field" {
		t.Errorf("a reason that cannot close: %s", r.body)
	}
	h.coord.mu.Lock()
	h.coord.unavailable = true
	h.coord.mu.Unlock()
	if r := must(t, h.do(req{method: http.MethodPost, path: path, token: tokWrite}), 503); r.code() != "coordinator_unavailable" {
		t.Errorf("no leader: %s", r.body)
	}
	if got, _ := h.db.GetEvent(t.Context(), ev.ID); !got.Open() {
		t.Fatal("no leader must change nothing")
	}
	h.coord.mu.Lock()
	h.coord.unavailable = false
	h.coord.mu.Unlock()

	var detail EventDetail
	must(t, h.do(req{method: http.MethodPost, path: path, token: tokWrite, body: `{"reason":"false_alarm","note":"checked by hand"}`}), 200).json(t, &detail)
	if detail.EndedAt == nil || deref(detail.ResolutionReason) != uptime.ReasonFalseAlarm || len(detail.Transitions) != 2 ||
		detail.Transitions[1].StateAfter != uptime.StateResolved {
		t.Errorf("closed detail = %+v", detail)
	}
	var site SiteDetail
	must(t, h.get("/api/v1/sites/1", tokRead), 200).json(t, &site)
	if site.CurrentState != uptime.StateUp || site.ActiveEventID != nil {
		t.Errorf("after close the site is %q (projection moved by the coordinator)", site.CurrentState)
	}
	// Closing a closed event is idempotent: 200 with the detail, no command.
	calls := len(h.coord.calls)
	must(t, h.do(req{method: http.MethodPost, path: path, token: tokWrite}), 200).json(t, &detail)
	if len(h.coord.calls) != calls || detail.EndedAt == nil {
		t.Errorf("second close sent a command or changed the answer: %v", h.coord.calls)
	}
}

func TestTriggerNow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0.Add(-time.Hour)})

	h.coord.mu.Lock()
	h.coord.trigger = uptime.Result{Success: false, HTTPCode: 503, RTT: 2 * time.Second, CheckedAt: t0}
	h.coord.mu.Unlock()
	var res TriggerNowResponse
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/1/trigger-now", token: tokWrite}), 200).json(t, &res)
	if res.Result.Success || res.Result.HTTPCode != 503 || res.Result.StatusType != "server" || res.EventsClosed != 0 ||
		res.CurrentState != uptime.StateDown || res.NodeID != "prober-1" {
		t.Errorf("failed check: %+v", res)
	}

	h.coord.mu.Lock()
	h.coord.trigger = uptime.Result{Success: true, HTTPCode: 200, RTT: 150 * time.Millisecond, CheckedAt: t0}
	h.coord.mu.Unlock()
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/1/trigger-now", token: tokWrite}), 200).json(t, &res)
	if !res.Result.Success || res.Result.RTTMs != 150 || res.EventsClosed != 1 || res.CurrentState != uptime.StateUp || res.ActiveEventID != nil {
		t.Errorf("successful check: %+v", res)
	}

	h.coord.mu.Lock()
	h.coord.unavailable = true
	h.coord.mu.Unlock()
	if r := must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/1/trigger-now", token: tokWrite}), 503); r.code() != "coordinator_unavailable" {
		t.Errorf("no leader: %s", r.body)
	}
}

// TestPauseAndDeleteWithoutLeaderChangeNothing: the coordinator is asked
// first; without a leader the site stays active and its events open.
func TestPauseAndDeleteWithoutLeaderChangeNothing(t *testing.T) {
	t.Parallel()
	tests := map[string]req{
		"pause":           {method: http.MethodPost, path: "/api/v1/sites/1/pause", token: tokWrite},
		"delete":          {method: http.MethodDelete, path: "/api/v1/sites/1", token: tokWrite},
		"patch to paused": {method: http.MethodPatch, path: "/api/v1/sites/1", token: tokWrite, body: `{"monitor_active":false}`},
	}
	for name, rq := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			before := h.seedSite(1)
			ev := h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0.Add(-time.Hour)})
			h.coord.unavailable = true
			if r := must(t, h.do(rq), 503); r.code() != "coordinator_unavailable" {
				t.Errorf("code = %q", r.code())
			}
			after, _ := h.db.GetSite(t.Context(), 1, "")
			got, _ := h.db.GetEvent(t.Context(), ev.ID)
			if !after.Active || !after.UpdatedAt.Equal(before.UpdatedAt) || !got.Open() {
				t.Errorf("something changed without a leader: active %v updated %v event open %v", after.Active, after.UpdatedAt, got.Open())
			}
			if slices.Contains(h.coord.calls, "sync") {
				t.Error("no sync may follow a refused command")
			}
		})
	}
}

func TestPauseResumeDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSite(1)
	h.seedEvent(uptime.Event{BlogID: 1, Severity: 3, State: uptime.StateSeemsDown, StartedAt: t0.Add(-time.Hour)})
	var site SiteDetail
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/1/pause", token: tokWrite}), 200).json(t, &site)
	if site.MonitorActive || site.CurrentState != uptime.StateUp {
		t.Errorf("paused: %+v", site.Site)
	}
	if want := []string{"pause", "sync"}; !slices.Equal(h.coord.calls, want) {
		t.Errorf("coordinator calls = %v, want %v (command first, then the write and a sync)", h.coord.calls, want)
	}
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites/1/resume", token: tokWrite}), 200).json(t, &site)
	if !site.MonitorActive {
		t.Error("resume did not set monitor_active")
	}
	must(t, h.do(req{method: http.MethodDelete, path: "/api/v1/sites/1", token: tokWrite}), 204)
	must(t, h.do(req{method: http.MethodDelete, path: "/api/v1/sites/1", token: tokWrite}), 204) // idempotent
	must(t, h.get("/api/v1/sites/1", tokRead), 200).json(t, &site)
	if site.MonitorActive {
		t.Error("a deleted site stays readable, inactive")
	}
	// A failed sync is logged; the write stands.
	h.coord.mu.Lock()
	h.coord.err = errors.New("sync: no responders")
	h.coord.mu.Unlock()
	r := h.do(req{method: http.MethodPost, path: "/api/v1/sites", token: tokWrite, body: `{"blog_id":9,"monitor_url":"https://nine.example"}`})
	if r.status != 201 {
		t.Errorf("create with a failing sync = %d: %s", r.status, r.body)
	}
}

func TestCreateAndPatchSite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var site SiteDetail
	body := `{"blog_id":1234,"monitor_url":"https://a.example/","check_keyword":"ok","forbidden_keywords":["fatal"],
		"custom_headers":{"X-Token":"secret"},"timeout_seconds":9,"redirect_policy":"alert","alert_cooldown_minutes":10}`
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites", token: tokWrite, body: body}), 201).json(t, &site)
	if site.BucketNo != 234 || site.CheckInterval != 5 || deref(site.CheckKeyword) != "ok" || deref(site.TimeoutSeconds) != 9 ||
		!slices.Equal(site.CustomHeaderNames, []string{"X-Token"}) || site.RedirectPolicy != uptime.RedirectAlert {
		t.Errorf("created = %+v", site.Site)
	}
	if r := must(t, h.do(req{method: http.MethodPost, path: "/api/v1/sites", token: tokWrite, body: body}), 409); r.code() != "site_exists" {
		t.Errorf("duplicate: %s", r.body)
	}
	patch := `{"check_keyword":null,"timeout_seconds":null,"alert_cooldown_minutes":null,"custom_headers":{},"check_interval":2}`
	must(t, h.do(req{method: http.MethodPatch, path: "/api/v1/sites/1234", token: tokWrite, body: patch}), 200).json(t, &site)
	if site.CheckKeyword != nil || site.TimeoutSeconds != nil || site.AlertCooldownMinutes != nil ||
		len(site.CustomHeaderNames) != 0 || site.CheckInterval != 2 {
		t.Errorf("null must clear: %+v", site.Site)
	}
	if r := must(t, h.do(req{method: http.MethodPatch, path: "/api/v1/sites/1234", token: tokWrite, body: `{"monitor_url":null}`}), 422); r.code() != "invalid_field" {
		t.Errorf("null for a required field: %s", r.body)
	}
	var syncs int
	h.coord.mu.Lock()
	syncs = h.coord.syncs
	h.coord.mu.Unlock()
	if syncs != 2 {
		t.Errorf("syncs = %d, want one per committed write", syncs)
	}
}
