package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	full := newHarness(t).srv.opts
	tests := map[string]struct {
		edit func(*Opts)
		want string
	}{
		"no address":      {func(o *Opts) { o.Addr = "" }, "address is required"},
		"no registerer":   {func(o *Opts) { o.Registerer = nil }, "Registerer is required"},
		"no key store":    {func(o *Opts) { o.Keys = nil }, "Keys is required"},
		"no coordinator":  {func(o *Opts) { o.Coordinator = nil }, "Coordinator is required"},
		"no mesh":         {func(o *Opts) { o.Mesh = nil }, "Mesh is required"},
		"negative bucket": {func(o *Opts) { o.BucketTotal = -1 }, "BucketTotal"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := full
			o.Registerer = prometheus.NewPedanticRegistry()
			tc.edit(&o)
			if _, err := New(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	o := full
	o.Registerer, o.DB, o.NATS = prometheus.NewPedanticRegistry(), nil, nil
	if _, err := New(o); err != nil {
		t.Errorf("nil Pingers must be accepted (health answers 503): %v", err)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		db, nats Pinger
		status   int
		code     string
	}{
		"all ok":       {pinger{}, pinger{}, 200, ""},
		"db missing":   {nil, pinger{}, 503, "db_unavailable"},
		"db down":      {pinger{errBoom}, pinger{}, 503, "db_unavailable"},
		"nats missing": {pinger{}, nil, 503, "nats_unavailable"},
		"nats down":    {pinger{}, pinger{errBoom}, 503, "nats_unavailable"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *Opts) { o.DB, o.NATS = tc.db, tc.nats })
			r := must(t, h.get("/api/v1/health", ""), tc.status)
			if r.code() != tc.code {
				t.Errorf("code = %q, want %q", r.code(), tc.code)
			}
			if strings.Contains(string(r.body), "boom") {
				t.Errorf("driver text leaked: %s", r.body)
			}
			if tc.code == "" {
				var body HealthResponse
				r.json(t, &body)
				if body != (HealthResponse{Status: "ok", DB: "ok", NATS: "ok", Version: "v-test"}) {
					t.Errorf("body = %+v", body)
				}
			}
		})
	}
}

func TestRoutingConventions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := must(t, h.get("/api/v1/nope", tokRead), 404)
	if r.code() != "endpoint_not_found" {
		t.Errorf("unknown route code = %q", r.code())
	}
	r = must(t, h.do(req{method: http.MethodPut, path: "/api/v1/sites/1", token: tokWrite}), 405)
	if r.code() != "method_not_allowed" || r.header.Get("Allow") != "GET, PATCH, DELETE" {
		t.Errorf("405: code %q, Allow %q", r.code(), r.header.Get("Allow"))
	}
	if id := r.header.Get("X-Request-ID"); len(id) != 32 {
		t.Errorf("generated X-Request-ID = %q, want 32 hex characters", id)
	}
	r = h.do(req{method: http.MethodGet, path: "/api/v1/me", token: tokRead, header: []string{"X-Request-ID", "gw-req-12345"}})
	if r.header.Get("X-Request-ID") != "gw-req-12345" {
		t.Errorf("a sane incoming request id must be kept, got %q", r.header.Get("X-Request-ID"))
	}
	r = h.do(req{method: http.MethodGet, path: "/api/v1/me", token: tokRead, header: []string{"X-Request-ID", "bad id\x01"}})
	if len(r.header.Get("X-Request-ID")) != 32 {
		t.Errorf("an insane incoming request id must be replaced, got %q", r.header.Get("X-Request-ID"))
	}
	r = must(t, h.get("/api/v1/sites?nope=1", tokRead), 400)
	if r.code() != "invalid_query" {
		t.Errorf("unknown query parameter code = %q", r.code())
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if n := testutil.CollectAndCount(h.reg, "jetmon_api_requests_total"); n < 4 {
		t.Errorf("request counter series = %d", n)
	}
	if n := testutil.CollectAndCount(h.reg, "jetmon_api_request_duration_seconds"); n == 0 {
		t.Error("no request duration series")
	}
	want := `jetmon_api_requests_total{code="405",route="unmatched"} 1`
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader("# HELP jetmon_api_requests_total API requests by route pattern and status code.\n# TYPE jetmon_api_requests_total counter\n"+want+"\n"+
		`jetmon_api_requests_total{code="404",route="unmatched"} 1`+"\n"+
		`jetmon_api_requests_total{code="200",route="/api/v1/me"} 2`+"\n"+
		`jetmon_api_requests_total{code="400",route="/api/v1/sites"} 1`+"\n"), "jetmon_api_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestPanicIsInternalErrorAndAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.db.failOn("ListWebhooks", errPanic)
	r := must(t, h.get("/api/v1/webhooks", tokRead), 500)
	if r.code() != "internal_error" {
		t.Errorf("code = %q", r.code())
	}
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	if last := h.db.audit[len(h.db.audit)-1]; last.Status != 500 || last.Note != "internal_error" {
		t.Errorf("audit row = %+v", last)
	}
}

// errPanic makes the fake store panic.
var errPanic = errors.New("panic")

func TestRunServesAndDrains(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	if err := h.srv.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.srv.Run(ctx) }()
	client := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("http://%s/api/v1/health", h.srv.Addr()), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("health over TCP = %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
