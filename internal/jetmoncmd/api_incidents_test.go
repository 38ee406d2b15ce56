package jetmoncmd

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// eventRow is the state of one event and its site as root reads it.
type eventRow struct {
	endedAt, reason, siteStatus, lastStatusChange, lastChangedAt, lastReason, lastSource string
	transitions                                                                          string
}

func (w *apiWorld) eventRow(blog, ev int64) eventRow {
	w.t.Helper()
	var r eventRow
	r.endedAt = w.scalar(`SELECT ended_at FROM jetmon_events WHERE id = ?`, ev)
	r.reason = w.scalar(`SELECT resolution_reason FROM jetmon_events WHERE id = ?`, ev)
	r.siteStatus = w.scalar(`SELECT site_status FROM jetpack_monitor_sites WHERE blog_id = ?`, blog)
	r.lastStatusChange = w.scalar(`SELECT last_status_change FROM jetpack_monitor_sites WHERE blog_id = ?`, blog)
	r.transitions = w.scalar(`SELECT COUNT(*) FROM jetmon_event_transitions WHERE event_id = ?`, ev)
	r.lastChangedAt = w.scalar(`SELECT MAX(changed_at) FROM jetmon_event_transitions WHERE event_id = ?`, ev)
	r.lastReason = w.scalar(`SELECT reason FROM jetmon_event_transitions WHERE event_id = ? ORDER BY id DESC LIMIT 1`, ev)
	r.lastSource = w.scalar(`SELECT source FROM jetmon_event_transitions WHERE event_id = ? ORDER BY id DESC LIMIT 1`, ev)
	return r
}

// TestAPICloseEvent closes an event through the API: the coordinator
// writes the close, its transition and the projection back to 1 in one
// transaction.
func TestAPICloseEvent(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	const closeBlog, otherBlog = 1, 2
	w.addSite(closeBlog, "https://close.example/")
	w.addSite(otherBlog, "https://other.example/")
	down := w.openEvent(closeBlog, uptime.StateDown)
	w.start(addCoordinator, "c1", "a", nil)
	c := w.apiServer("api-close", "", nil)
	_, token := w.newKey("ops-bot", uptime.ScopeWrite)
	w.waitLeader(c, token)

	var site struct {
		CurrentState  uptime.State `json:"current_state"`
		ActiveEventID *int64       `json:"active_event_id"`
	}
	c.want(http.StatusOK, http.MethodGet, "/sites/1", token, nil).decode(t, &site)
	if site.CurrentState != uptime.StateDown || site.ActiveEventID == nil || *site.ActiveEventID != down {
		t.Fatalf("site 1 before the close: %+v", site)
	}
	closePath := fmt.Sprintf("/sites/%d/events/%d/close", closeBlog, down)
	var closed struct {
		EndedAt          *time.Time `json:"ended_at"`
		ResolutionReason *string    `json:"resolution_reason"`
		Transitions      []struct {
			Reason string `json:"reason"`
		} `json:"transitions"`
	}
	c.want(http.StatusOK, http.MethodPost, closePath, token, map[string]any{"note": "handled by ops"}).decode(t, &closed)
	if closed.EndedAt == nil || closed.ResolutionReason == nil || *closed.ResolutionReason != "manual_override" ||
		len(closed.Transitions) != 2 || closed.Transitions[1].Reason != "manual_override" {
		t.Fatalf("close answered %+v", closed)
	}
	row := w.eventRow(closeBlog, down)
	// The coordinator writes the close, its transition and the projection in
	// one transaction at one instant: the three times are equal.
	if row.reason != "manual_override" || row.siteStatus != "1" || row.transitions != "2" || row.lastSource != "operator:ops-bot" ||
		row.endedAt == "" || row.endedAt != row.lastChangedAt || row.lastStatusChange[:19] != row.endedAt[:19] {
		t.Fatalf("after the close: %+v", row)
	}
	c.want(http.StatusOK, http.MethodPost, closePath, token, nil) // closed already: 200 as it is
	if again := w.eventRow(closeBlog, down); again != row {
		t.Fatalf("a second close changed %+v to %+v", row, again)
	}
	c.want(http.StatusOK, http.MethodGet, "/sites/1", token, nil).decode(t, &site)
	if site.CurrentState != uptime.StateUp || site.ActiveEventID != nil {
		t.Fatalf("site 1 after the close: %+v", site)
	}
	if r := c.do(http.MethodPost, fmt.Sprintf("/sites/%d/events/%d/close", otherBlog, down), token, nil); r.status != 404 ||
		r.errorCode() != "event_not_found" {
		t.Fatalf("another site's event: %d %s", r.status, r.body)
	}
}

// TestAPITriggerNow runs a trigger-now round trip: the API asks the
// coordinator, which has the prober owning the site's bucket check it; the
// success closes the site's open event.
func TestAPITriggerNow(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	fleet := w.withFleet()
	const blog = 2
	w.addSite(blog, fleet.URL("trigger"))
	seems := w.openEvent(blog, uptime.StateSeemsDown)
	w.start(addCoordinator, "c1", "a", nil)
	w.start(cli.AddProber, "p1", "a", nil)
	c := w.apiServer("api-trigger", "", nil)
	_, token := w.newKey("ops-bot", uptime.ScopeWrite)
	w.waitLeader(c, token)
	var trig struct {
		Result struct {
			Success  bool `json:"success"`
			HTTPCode int  `json:"http_code"`
		} `json:"result"`
		NodeID       string       `json:"node_id"`
		Region       string       `json:"region"`
		EventsClosed int          `json:"events_closed"`
		CurrentState uptime.State `json:"current_state"`
	}
	trigger := "/sites/" + strconv.Itoa(blog) + "/trigger-now"
	waitFor(t, stepBudget, "trigger-now reaches the prober that owns the site", func() error {
		r := c.do(http.MethodPost, trigger, token, nil)
		if r.status != http.StatusOK {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		r.decode(t, &trig)
		return nil
	})
	if !trig.Result.Success || trig.Result.HTTPCode != 200 || trig.NodeID != "p1" || trig.Region != "a" ||
		trig.EventsClosed != 1 || trig.CurrentState != uptime.StateUp {
		t.Fatalf("trigger-now answered %+v", trig)
	}
	if row := w.eventRow(blog, seems); row.endedAt == "" || row.siteStatus != "1" {
		t.Fatalf("after trigger-now: %+v", row)
	}
	if r := c.do(http.MethodPost, "/sites/404/trigger-now", token, nil); r.status != 404 || r.errorCode() != "site_not_found" {
		t.Fatalf("trigger of a missing site: %d %s", r.status, r.body)
	}
}

// TestAPICoordinatorStopped stops the only coordinator: every incident
// change answers 503 coordinator_unavailable and nothing changes.
func TestAPICoordinatorStopped(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	const blog = 7
	w.addSite(blog, "https://stopped.example/")
	ev := w.openEvent(blog, uptime.StateDown)
	coord := w.start(addCoordinator, "c1", "a", nil)
	c := w.apiServer("api-stopped", "", nil)
	_, token := w.newKey("ops", uptime.ScopeWrite)
	w.waitLeader(c, token)
	coord.stop(t)

	state := func() string {
		return w.scalar(`SELECT CONCAT_WS('|', monitor_active, site_status, last_status_change, updated_at)
			FROM jetpack_monitor_sites WHERE blog_id = ?`, blog) + fmt.Sprintf("|%+v", w.eventRow(blog, ev))
	}
	before := state()
	requests := []struct{ method, path string }{
		{http.MethodPost, "/sites/7/pause"},
		{http.MethodDelete, "/sites/7"},
		{http.MethodPost, fmt.Sprintf("/sites/7/events/%d/close", ev)},
		{http.MethodPost, "/sites/7/trigger-now"},
		{http.MethodPatch, "/sites/7"}, // monitor_active false is a pause
	}
	for _, rq := range requests {
		var body any
		if rq.method == http.MethodPatch {
			body = map[string]any{"monitor_active": false}
		}
		r := c.do(rq.method, rq.path, token, body)
		if r.status != http.StatusServiceUnavailable || r.errorCode() != "coordinator_unavailable" {
			t.Errorf("%s %s without a coordinator: %d %s, want 503 coordinator_unavailable", rq.method, rq.path, r.status, r.body)
		}
	}
	if after := state(); after != before {
		t.Fatalf("without a coordinator the API changed\n%s\nto\n%s", before, after)
	}
}

// TestAPINodeAlone runs the API role as `jetmon api` wires it (its own
// listener, NATS and MySQL, no other role) and checks its health.
func TestAPINodeAlone(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	n := w.start(addAPI, "api-alone", "a", nil)
	part, ok := n.cn.Part("api")
	if !ok {
		t.Fatal("no api part")
	}
	addr := part.(interface{ Addr() string }).Addr()
	c := &apiClient{t: t, base: "http://" + addr + "/api/v1", http: &http.Client{Timeout: 10 * time.Second}}
	var health map[string]string
	c.want(http.StatusOK, http.MethodGet, "/health", "", nil).decode(t, &health)
	if health["status"] != "ok" || health["db"] != "ok" || health["nats"] != "ok" {
		t.Fatalf("health %v", health)
	}
	_, token := w.newKey("alone", uptime.ScopeRead)
	var mesh struct {
		Leader *struct{} `json:"leader"`
	}
	c.want(http.StatusOK, http.MethodGet, "/mesh", token, nil).decode(t, &mesh)
	if mesh.Leader != nil {
		t.Fatalf("a leader without a coordinator: %+v", mesh)
	}
	if r := c.do(http.MethodPost, "/sites/1/trigger-now", "", nil); r.status != 401 {
		t.Fatalf("unauthenticated trigger: %d", r.status)
	}
}
