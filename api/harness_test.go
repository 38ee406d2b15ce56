package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// t0 is the tests' clock start.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Tokens of the keys every harness has.
const (
	tokRead    = "jm_READKEYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tokWrite   = "jm_WRITEKEYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tokAdmin   = "jm_ADMINKEYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tokGateway = "jm_GATEWAYKEYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

// harness is a server over fakes.
type harness struct {
	t     testing.TB
	srv   *Server
	db    *fakeDB
	coord *fakeCoord
	ops   *fakeOps
	mesh  *fakeMesh
	clock *clock
	reg   *prometheus.Registry
}

// newHarness builds a server; edit may change its options.
func newHarness(t testing.TB, edit ...func(*Opts)) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: t0}, reg: prometheus.NewPedanticRegistry()}
	h.db = newFakeDB(h.clock.Now)
	h.coord = &fakeCoord{db: h.db, trigger: uptime.Result{Success: true, HTTPCode: 200, RTT: 120 * time.Millisecond}}
	h.ops = &fakeOps{db: h.db, send: uptime.SendResult{StatusCode: 202, Response: "ok"}}
	h.mesh = &fakeMesh{}
	h.addKey(tokRead, uptime.APIKey{ID: 1, Consumer: "reader", Scope: uptime.ScopeRead, RateLimitPerMinute: 1000})
	h.addKey(tokWrite, uptime.APIKey{ID: 2, Consumer: "writer", Scope: uptime.ScopeWrite, RateLimitPerMinute: 1000})
	h.addKey(tokAdmin, uptime.APIKey{ID: 3, Consumer: "admin", Scope: uptime.ScopeAdmin, RateLimitPerMinute: 1000})
	h.addKey(tokGateway, uptime.APIKey{ID: 4, Consumer: "gateway", Scope: uptime.ScopeWrite, RateLimitPerMinute: 1000})
	opts := Opts{
		Addr: "127.0.0.1:0", Version: "v-test", Registerer: h.reg,
		Keys: h.db, Idempotency: h.db, Auditor: h.db, Sites: h.db, Events: h.db, Stats: h.db, Webhooks: h.db,
		AlertContacts: h.db, Deliveries: h.db, DeliveryOps: h.ops, Coordinator: h.coord, Mesh: h.mesh,
		DB: pinger{}, NATS: pinger{}, LegacyStatusProjection: false, BucketTotal: 1000, Now: h.clock.Now,
		Random: bytes.NewReader(bytes.Repeat([]byte{7}, 1<<16)),
	}
	for _, e := range edit {
		e(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	return h
}

func (h *harness) addKey(token string, k uptime.APIKey) {
	k.Hash = uptime.HashAPIToken(token)
	if k.CreatedAt.IsZero() {
		k.CreatedAt = t0.Add(-24 * time.Hour)
	}
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	h.db.keys[k.Hash] = k
}

// resp is a response with its decoded body.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
}

// code is the error envelope's code ("" for a non-error body).
func (r resp) code() string {
	var e ErrorEnvelope
	_ = json.Unmarshal(r.body, &e)
	return string(e.Error.Code)
}

// req is a request to send; header pairs are name, value.
type req struct {
	method, path, token string
	body                any // string or []byte sent as is, anything else as JSON
	header              []string
}

func (h *harness) do(r req) resp {
	h.t.Helper()
	return h.doWith(h.t, r)
}

// doWith sends r on behalf of t (a fuzz target's own *testing.T).
func (h *harness) doWith(t testing.TB, r req) resp {
	t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr := httptest.NewRequestWithContext(t.Context(), r.method, r.path, body)
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for i := 0; i+1 < len(r.header); i += 2 {
		hr.Header.Set(r.header[i], r.header[i+1])
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, hr)
	return resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (h *harness) get(path, token string) resp {
	h.t.Helper()
	return h.do(req{method: http.MethodGet, path: path, token: token})
}

// must fails unless r has status want.
func must(t *testing.T, r resp, want int) resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// seedSite adds a site.
func (h *harness) seedSite(blogID int64, edit ...func(*uptime.SiteConfig)) uptime.SiteConfig {
	s := uptime.SiteConfig{BlogID: blogID, URL: "https://example.com/" + itoa(blogID), Active: true, CheckIntervalMin: 5,
		RedirectPolicy: uptime.RedirectFollow, LegacyStatus: uptime.LegacySiteRunning, CreatedAt: t0.Add(-time.Hour),
		UpdatedAt: t0.Add(-time.Hour)}
	for _, e := range edit {
		e(&s)
	}
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	h.db.sites[blogID] = s
	return s
}

// seedEvent adds an event (open unless ended is set) with its opening
// transition.
func (h *harness) seedEvent(ev uptime.Event) uptime.Event {
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	if ev.ID == 0 {
		ev.ID = h.db.id()
	}
	if ev.CheckType == "" {
		ev.CheckType = uptime.CheckTypeHTTP
	}
	h.db.events[ev.ID] = ev
	sev := ev.Severity
	h.db.transitions = append(h.db.transitions, uptime.Transition{ID: h.db.id(), EventID: ev.ID, BlogID: ev.BlogID,
		SeverityAfter: &sev, StateAfter: ev.State, Reason: uptime.ReasonOpened, Source: "local", ChangedAt: ev.StartedAt})
	return ev
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
