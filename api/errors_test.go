package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// errorCase is a request that must answer with one error code.
type errorCase struct {
	setup func(h *harness)
	req   req
}

func post(path, token string, body any, header ...string) req {
	return req{method: http.MethodPost, path: path, token: token, body: body, header: header}
}

func patchReq(path string, body any) req {
	return req{method: http.MethodPatch, path: path, token: tokWrite, body: body}
}

// errorCases has one request per row of the error table.
func errorCases() map[ErrorCode]errorCase {
	const w, r = tokWrite, tokRead
	get := func(path, token string) req { return req{method: http.MethodGet, path: path, token: token} }
	gw := func(rq req, header ...string) req { rq.header = header; return rq }
	return map[ErrorCode]errorCase{
		codeMissingToken:        {req: get("/api/v1/sites", "")},
		codeInvalidToken:        {req: get("/api/v1/sites", "jm_NOSUCHKEYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
		codeTokenRevoked:        {setup: addKey("jm_REVOKEDAAAAAAAAAAAA", uptime.APIKey{ID: 90, Scope: uptime.ScopeRead, RevokedAt: t0}), req: get("/api/v1/me", "jm_REVOKEDAAAAAAAAAAAA")},
		codeTokenExpired:        {setup: addKey("jm_EXPIREDAAAAAAAAAAAA", uptime.APIKey{ID: 91, Scope: uptime.ScopeRead, ExpiresAt: t0}), req: get("/api/v1/me", "jm_EXPIREDAAAAAAAAAAAA")},
		codeInsufficientScope:   {req: post("/api/v1/sites/1/pause", r, nil)},
		codeForbiddenGateway:    {req: gw(get("/api/v1/sites", r), headerTenantID, "t1")},
		codeInvalidGateway:      {req: gw(get("/api/v1/sites", tokGateway), headerTenantID, "t1")},
		codeInvalidBody:         {req: post("/api/v1/sites", w, `{"blog_id":1,"monitor_url":"https://x.example","nope":1}`)},
		codeInvalidQuery:        {req: get("/api/v1/sites?bogus=1", r)},
		codeInvalidLimit:        {req: get("/api/v1/sites?limit=-1", r)},
		codeInvalidCursor:       {req: get("/api/v1/sites?cursor=abc", r)},
		codeInvalidSiteID:       {req: get("/api/v1/sites/abc", r)},
		codeInvalidEventID:      {req: get("/api/v1/events/0", r)},
		codeInvalidWebhookID:    {req: get("/api/v1/webhooks/-3", r)},
		codeInvalidContactID:    {req: get("/api/v1/alert-contacts/x", r)},
		codeInvalidDeliveryID:   {setup: seedWebhook(50), req: post("/api/v1/webhooks/50/deliveries/zero/retry", w, nil)},
		codeInvalidStateFilter:  {req: get("/api/v1/sites?state=Sideways", r)},
		codeInvalidSeverity:     {req: get("/api/v1/sites?severity__gte=high", r)},
		codeInvalidMonitorAct:   {req: get("/api/v1/sites?monitor_active=maybe", r)},
		codeInvalidActive:       {req: get("/api/v1/sites/1/events?active=maybe", r)},
		codeInvalidStartedGTE:   {req: get("/api/v1/sites/1/events?started_at__gte=yesterday", r)},
		codeInvalidStartedLT:    {req: get("/api/v1/sites/1/events?started_at__lt=2026-13-01", r)},
		codeInvalidWindow:       {req: get("/api/v1/sites/1/uptime?window=2w", r)},
		codeInvalidStatus:       {setup: seedWebhook(50), req: get("/api/v1/webhooks/50/deliveries?status=lost", r)},
		codeInvalidURL:          {req: post("/api/v1/sites", w, `{"blog_id":2,"monitor_url":"ftp://x.example"}`)},
		codeInvalidBlogID:       {req: post("/api/v1/sites", w, `{"blog_id":0,"monitor_url":"https://x.example"}`)},
		codeInvalidTransport:    {req: post("/api/v1/alert-contacts", w, `{"label":"a","transport":"pager","destination":{}}`)},
		codeInvalidIdemKey:      {req: post("/api/v1/sites/1/resume", w, nil, "Idempotency-Key", "bad\x7fkey")},
		codeInvalidGrace:        {setup: seedWebhook(50), req: post("/api/v1/webhooks/50/rotate-secret?grace=1y", w, nil)},
		codeBodyTooLarge:        {req: post("/api/v1/sites", w, `{"monitor_url":"`+strings.Repeat("a", 1<<20)+`"}`)},
		codeInvalidRedirect:     {req: post("/api/v1/sites", w, `{"blog_id":2,"monitor_url":"https://x.example","redirect_policy":"sometimes"}`)},
		codeInvalidHeaders:      {req: post("/api/v1/sites", w, `{"blog_id":2,"monitor_url":"https://x.example","custom_headers":{"Bad Name":"v"}}`)},
		codeInvalidField:        {req: patchReq("/api/v1/sites/1", `{"check_interval":0}`)},
		codeInvalidEventType:    {req: post("/api/v1/webhooks", w, `{"url":"https://h.example","events":["site.exploded"]}`)},
		codeInvalidAlertContact: {req: post("/api/v1/alert-contacts", w, `{"label":"a","transport":"email","destination":{"address":"not-an-address"}}`)},
		codeSiteNotFound:        {req: get("/api/v1/sites/404", r)},
		codeEventNotFound:       {req: get("/api/v1/events/404", r)},
		codeWebhookNotFound:     {req: get("/api/v1/webhooks/404", r)},
		codeContactNotFound:     {req: get("/api/v1/alert-contacts/404", r)},
		codeDeliveryNotFound:    {setup: seedWebhook(50), req: post("/api/v1/webhooks/50/deliveries/404/retry", w, nil)},
		codeEndpointNotFound:    {req: get("/api/v1/nothing-here", r)},
		codeMethodNotAllowed:    {req: req{method: http.MethodPut, path: "/api/v1/sites", token: w}},
		codeSiteExists:          {req: post("/api/v1/sites", w, `{"blog_id":1,"monitor_url":"https://x.example"}`)},
		codeIdemConflict: {setup: func(h *harness) { h.do(post("/api/v1/sites/1/resume", w, nil, "Idempotency-Key", "k")) },
			req: post("/api/v1/sites/1/resume", w, `{}`, "Idempotency-Key", "k")},
		codeIdemInProgress: {setup: func(h *harness) {
			_, _, _ = h.db.Claim(h.t.Context(), IdempotencyRecord{KeyID: 2, Method: "POST", Path: "/api/v1/sites/1/resume", Key: "k",
				RequestHash: requestHash("", "", nil), ExpiresAt: t0.Add(time.Hour)})
		}, req: post("/api/v1/sites/1/resume", w, nil, "Idempotency-Key", "k")},
		codeDeliveryNotRetry:  {setup: seedDelivery(50, 60, uptime.DeliveryDelivered), req: post("/api/v1/webhooks/50/deliveries/60/retry", w, nil)},
		codeRateLimited:       {setup: addKey("jm_SLOWAAAAAAAAAAAAAAAA", uptime.APIKey{ID: 92, Scope: uptime.ScopeRead, RateLimitPerMinute: 1}), req: get("/api/v1/me", "jm_SLOWAAAAAAAAAAAAAAAA")},
		codeAuthError:         {setup: failOn("KeyByHash"), req: get("/api/v1/me", r)},
		codeDBError:           {setup: failOn("ListSites"), req: get("/api/v1/sites", r)},
		codeInternal:          {setup: func(h *harness) { seedDelivery(50, 60, uptime.DeliveryFailed)(h); h.ops.retryErr = errBoom }, req: post("/api/v1/webhooks/50/deliveries/60/retry", w, nil)},
		codeCoordinatorError:  {setup: func(h *harness) { h.coord.err = errors.New("bad_request: nope") }, req: post("/api/v1/sites/1/trigger-now", w, nil)},
		codeDBUnavailable:     {setup: func(h *harness) { h.srv.opts.DB = nil }, req: get("/api/v1/health", "")},
		codeNATSUnavailable:   {setup: func(h *harness) { h.mesh.err = errBoom }, req: get("/api/v1/mesh", r)},
		codeCoordUnavailable:  {setup: func(h *harness) { h.coord.unavailable = true }, req: post("/api/v1/sites/1/pause", w, nil)},
		codeTransportNotConfd: {setup: seedContact(70, func(h *harness) { h.ops.sendErr = fmt.Errorf("email: %w", ErrTransportNotConfigured) }), req: post("/api/v1/alert-contacts/70/test", w, nil)},
	}
}

// TestEveryErrorCodeIsReachable lists the error table and proves each code
// is produced, with its table status, by some request; and that no case
// exists for a code outside the table.
func TestEveryErrorCodeIsReachable(t *testing.T) {
	t.Parallel()
	cases := errorCases()
	for _, spec := range errorTable() {
		t.Run(string(spec.code), func(t *testing.T) {
			t.Parallel()
			c, ok := cases[spec.code]
			if !ok {
				t.Fatalf("no request produces %s", spec.code)
			}
			h := newHarness(t)
			h.seedSite(1)
			if c.setup != nil {
				c.setup(h)
			}
			r := h.do(c.req)
			if r.code() != string(spec.code) || r.status != spec.status {
				t.Fatalf("%s %s = %d %q, want %d %s: %s", c.req.method, c.req.path, r.status, r.code(), spec.status, spec.code, r.body)
			}
			var env ErrorEnvelope
			r.json(t, &env)
			if env.Error.Message == "" || env.Error.RequestID != r.header.Get("X-Request-ID") {
				t.Errorf("envelope = %+v", env)
			}
			if strings.Contains(env.Error.Message, "boom") {
				t.Errorf("driver text leaked: %s", env.Error.Message)
			}
		})
	}
	if len(cases) != len(errorTable()) {
		t.Errorf("%d cases for %d codes", len(cases), len(errorTable()))
	}
}

func addKey(token string, k uptime.APIKey) func(*harness) {
	return func(h *harness) {
		h.addKey(token, k)
		if k.RateLimitPerMinute == 1 {
			h.do(req{method: http.MethodGet, path: "/api/v1/me", token: token})
		}
	}
}

func failOn(method string) func(*harness) { return func(h *harness) { h.db.failOn(method, errBoom) } }

func seedWebhook(id int64) func(*harness) {
	return func(h *harness) {
		h.db.mu.Lock()
		defer h.db.mu.Unlock()
		h.db.webhooks[id] = uptime.Webhook{ID: id, URL: "https://hook.example", Active: true, SecretPreview: "abcd"}
	}
}

func seedContact(id int64, more func(*harness)) func(*harness) {
	return func(h *harness) {
		h.db.mu.Lock()
		h.db.contacts[id] = uptime.AlertContact{ID: id, Label: "ops", Active: true, Transport: uptime.TransportEmail,
			Destination: map[string]string{"address": "ops@example.com"}, DestinationPreview: ".com", MinSeverity: uptime.SeverityDown}
		h.db.mu.Unlock()
		if more != nil {
			more(h)
		}
	}
}

func seedDelivery(hookID, id int64, status uptime.DeliveryStatus) func(*harness) {
	return func(h *harness) {
		seedWebhook(hookID)(h)
		h.db.mu.Lock()
		defer h.db.mu.Unlock()
		h.db.deliveries[id] = uptime.Delivery{ID: id, Kind: uptime.DeliveryWebhook, DestinationID: hookID, Status: status,
			TransitionID: 1003, EventID: 1001, BlogID: 1, EventType: uptime.EventOpened, CreatedAt: t0, UpdatedAt: t0}
	}
}
