package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	validator "github.com/pb33f/libopenapi-validator"

	"github.com/jetmon-mesh/jetmon/uptime"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// wireStep is one request of the scenario; golden names its golden file.
type wireStep struct {
	golden string
	req    req
	status int
}

// seedWire is the scenario's data: sites, an open confirmed outage, a
// webhook with a delivery, an alert contact, roll-ups and a mesh.
func seedWire(h *harness) {
	h.seedSite(1, func(s *uptime.SiteConfig) {
		s.Keyword, s.Headers, s.TimeoutSec = "Welcome", map[string]string{"Authorization": "Bearer s3cret"}, 10
		s.LastCheckedAt, s.SSLExpiryDate = t0.Add(-time.Minute), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	})
	h.seedSite(2)
	seedConfirmedOutage(h, 1)
	seedDelivery(50, 60, uptime.DeliveryAbandoned)(h)
	seedContact(70, nil)(h)
	h.db.mu.Lock()
	h.db.deliveries[61] = uptime.Delivery{ID: 61, Kind: uptime.DeliveryAlert, DestinationID: 70, Status: uptime.DeliveryFailed,
		Severity: ptr(uptime.SeverityDown), EventType: "alert.opened", CreatedAt: t0, UpdatedAt: t0, LastAttemptAt: t0, LastStatusCode: 500}
	h.db.rollups = []uptime.HourlyRollup{{BlogID: 1, Hour: t0.Add(-time.Hour), Checks: 12, RTTSamples: 12, SumRTTMs: 1200,
		MinRTTMs: ptr(int64(80)), MaxRTTMs: ptr(int64(150)), SumDNSMs: 120, SumTCPMs: 240, SumTLSMs: 360, SumTTFBMs: 480}}
	h.db.mu.Unlock()
	h.mesh.view = MeshView{LeaderNodeID: "coord-1", LeaderRegion: "eu", Epoch: 7, ProbersByRegion: map[string]int{"eu": 2, "us": 1},
		VerifliersByRegion: map[string]int{"us": 2}, Unassigned: []uptime.BucketRange{{Min: 900, Max: 999}}, ResultsBacklog: 3}
}

func wireScenario() []wireStep {
	g := func(path string) req { return req{method: http.MethodGet, path: path, token: tokRead} }
	p := func(path string, body any) req {
		return req{method: http.MethodPost, path: path, token: tokWrite, body: body}
	}
	return []wireStep{
		{"health", req{method: http.MethodGet, path: "/api/v1/health"}, 200},
		{"openapi", g("/api/v1/openapi.json"), 200},
		{"mesh", g("/api/v1/mesh"), 200},
		{"me", g("/api/v1/me"), 200},
		{"sites_list", g("/api/v1/sites?limit=1"), 200},
		{"site_detail", g("/api/v1/sites/1"), 200},
		{"", p("/api/v1/sites", `{"blog_id":3,"monitor_url":"https://three.example","forbidden_keywords":["Fatal error"]}`), 201},
		{"", req{method: http.MethodPatch, path: "/api/v1/sites/3", token: tokWrite, body: `{"maintenance_start":"2026-05-02T00:00:00Z","maintenance_end":"2026-05-02T01:00:00Z"}`}, 200},
		{"", p("/api/v1/sites/3/pause", nil), 200},
		{"", p("/api/v1/sites/3/resume", nil), 200},
		{"trigger_now", p("/api/v1/sites/2/trigger-now", nil), 200},
		{"", req{method: http.MethodDelete, path: "/api/v1/sites/3", token: tokWrite}, 204},
		{"events_list", g("/api/v1/sites/1/events"), 200},
		{"event_detail", g("/api/v1/sites/1/events/1001"), 200},
		{"", g("/api/v1/events/1001"), 200},
		{"", g("/api/v1/sites/1/events/1001/transitions?limit=1"), 200},
		{"uptime", g("/api/v1/sites/1/uptime"), 200},
		{"", g("/api/v1/sites/1/response-time?window=7d"), 200},
		{"", g("/api/v1/sites/1/timing-breakdown"), 200},
		{"webhook_created", p("/api/v1/webhooks", `{"url":"https://hook.example/in","events":["event.opened","event.closed"]}`), 201},
		{"", g("/api/v1/webhooks"), 200},
		{"webhook", g("/api/v1/webhooks/50"), 200},
		{"", req{method: http.MethodPatch, path: "/api/v1/webhooks/50", token: tokWrite, body: `{"active":false}`}, 200},
		{"", p("/api/v1/webhooks/50/rotate-secret?grace=1h", nil), 200},
		{"webhook_deliveries", g("/api/v1/webhooks/50/deliveries"), 200},
		{"", p("/api/v1/webhooks/50/deliveries/60/retry", nil), 200},
		{"", p("/api/v1/alert-contacts", `{"label":"pager","transport":"pagerduty","destination":{"integration_key":"R0UT1NGKEY"}}`), 201},
		{"", g("/api/v1/alert-contacts"), 200},
		{"alert_contact", g("/api/v1/alert-contacts/70"), 200},
		{"", req{method: http.MethodPatch, path: "/api/v1/alert-contacts/70", token: tokWrite, body: `{"max_per_hour":5}`}, 200},
		{"alert_test", p("/api/v1/alert-contacts/70/test", nil), 200},
		{"", g("/api/v1/alert-contacts/70/deliveries"), 200},
		{"", p("/api/v1/alert-contacts/70/deliveries/61/retry", nil), 200},
		{"", req{method: http.MethodDelete, path: "/api/v1/alert-contacts/1005", token: tokWrite}, 204},
		{"", req{method: http.MethodDelete, path: "/api/v1/webhooks/1004", token: tokWrite}, 204},
		{"event_close", p("/api/v1/sites/1/events/1001/close", `{"note":"fixed the load balancer"}`), 200},
		{"error_invalid_body", p("/api/v1/sites", `{"blog_id":4,"monitor_url":"https://x.example","Blog_ID":5}`), 400},
		{"", g("/api/v1/sites/999"), 404},
		{"", req{method: http.MethodGet, path: "/api/v1/me"}, 401},
	}
}

// TestWireScenario calls every route, validates each request and response
// against the OpenAPI document with libopenapi-validator, and freezes a few
// bodies in testdata/ (go test -run TestWireScenario -update).
func TestWireScenario(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedWire(h)
	doc, _ := loadDocument(t, h)
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	covered := map[string]bool{}
	for i, step := range wireScenario() {
		step.req.header = append(step.req.header, "X-Request-ID", "req-golden-"+itoa(int64(i)))
		r := h.do(step.req)
		if r.status != step.status {
			t.Fatalf("%s %s = %d, want %d: %s", step.req.method, step.req.path, r.status, step.status, r.body)
		}
		validateExchange(t, v, step.req, r)
		if step.golden != "" {
			golden(t, step.golden, r.body)
		}
		covered[routeOf(h, step.req)] = true
	}
	for _, rt := range h.srv.table {
		if !covered[rt.method+" "+apiPrefix+rt.pattern] {
			t.Errorf("the scenario does not call %s %s", rt.method, rt.pattern)
		}
	}
}

func routeOf(h *harness, rq req) string {
	path, _, _ := strings.Cut(rq.path, "?")
	for _, rt := range h.srv.table {
		if rt.method == rq.method && matchPattern(apiPrefix+rt.pattern, path) {
			return rt.method + " " + apiPrefix + rt.pattern
		}
	}
	return ""
}

func matchPattern(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], "{") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// validateExchange checks the request (unless it failed) and the response
// against the document.
func validateExchange(t *testing.T, v validator.Validator, rq req, r resp) {
	t.Helper()
	var body []byte
	switch b := rq.body.(type) {
	case string:
		body = []byte(b)
	case nil:
	default:
		t.Fatalf("scenario bodies are strings")
	}
	hr := httptest.NewRequestWithContext(t.Context(), rq.method, rq.path, bytes.NewReader(body))
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		hr.Header.Set("Authorization", "Bearer "+rq.token)
	}
	res := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)), Request: hr}
	validate := v.ValidateHttpRequestResponse
	if r.status >= 400 { // the scenario's bad requests are meant to break the document
		validate = v.ValidateHttpResponse
	}
	if ok, errs := validate(hr, res); !ok {
		for _, e := range errs {
			t.Errorf("%s %s (%d): %s: %s", rq.method, rq.path, r.status, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("    %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
}

func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, pretty.Bytes()) {
		t.Errorf("%s differs from %s (run with -update if the change is intended):\n%s", name, path, pretty.String())
	}
}
