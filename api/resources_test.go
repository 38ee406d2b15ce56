package api

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

var secretShape = regexp.MustCompile(`^whsec_[A-Z2-7]{52}$`)

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Opts) { o.Random = nil }) // crypto/rand
	var created WebhookWithSecret
	must(t, h.do(post("/api/v1/webhooks", tokWrite, `{"url":"https://hook.example/x","events":["event.opened","event.opened"],
		"site_filter":{"site_ids":[1,2]},"state_filter":{"states":["Down"]}}`)), 201).json(t, &created)
	if !secretShape.MatchString(created.Secret) || created.SecretPreview != created.Secret[len(created.Secret)-4:] ||
		len(created.Events) != 1 || created.CreatedBy != "writer" {
		t.Errorf("created = %+v", created)
	}
	path := "/api/v1/webhooks/" + itoa(created.ID)
	got := must(t, h.get(path, tokRead), 200)
	if strings.Contains(string(got.body), created.Secret) || strings.Contains(string(got.body), `"secret"`) {
		t.Errorf("GET returns the secret: %s", got.body)
	}
	var rotated WebhookWithSecret
	must(t, h.do(post(path+"/rotate-secret?grace=2h", tokWrite, nil)), 200).json(t, &rotated)
	if rotated.Secret == created.Secret || !secretShape.MatchString(rotated.Secret) || rotated.PreviousSecretExpiresAt == nil ||
		!rotated.PreviousSecretExpiresAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("rotated with grace = %+v", rotated)
	}
	must(t, h.do(post(path+"/rotate-secret", tokWrite, nil)), 200).json(t, &rotated)
	if rotated.PreviousSecretExpiresAt == nil || !rotated.PreviousSecretExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("the default rotation keeps the old secret for 24 h: %v", rotated.PreviousSecretExpiresAt)
	}
	must(t, h.do(post(path+"/rotate-secret?grace=0", tokWrite, nil)), 200).json(t, &rotated)
	if rotated.PreviousSecretExpiresAt != nil {
		t.Errorf("grace=0 invalidates the old secret at once: %v", rotated.PreviousSecretExpiresAt)
	}
	var patched Webhook
	must(t, h.do(patchReq(path, `{"events":[],"site_filter":{"site_ids":[]},"active":false}`)), 200).json(t, &patched)
	if len(patched.Events) != 0 || len(patched.SiteFilter.SiteIDs) != 0 || patched.Active || len(patched.StateFilter.States) != 1 {
		t.Errorf("patched = %+v", patched)
	}
	for body, code := range map[string]string{
		`{"events":null}`:                          "invalid_field",
		`{"state_filter":{"states":["Sideways"]}}`: "invalid_field",
		`{"url":"mailto:x@example.com"}`:           "invalid_url",
		`{"site_filter":{"site_ids":[0]}}`:         "invalid_field",
		`{"site_filter":{"sites":[1]}}`:            "invalid_body",
	} {
		if r := h.do(patchReq(path, body)); r.code() != code {
			t.Errorf("PATCH %s = %d %s, want %s", body, r.status, r.body, code)
		}
	}
	must(t, h.do(req{method: http.MethodDelete, path: path, token: tokWrite}), 204)
	must(t, h.get(path, tokRead), 404)
}

func TestAlertContactValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := map[string]struct {
		body, code, field string
	}{
		"email":               {`{"label":"ops","transport":"email","destination":{"address":"ops@example.com"}}`, "", ""},
		"pagerduty":           {`{"label":"pd","transport":"pagerduty","destination":{"integration_key":"abc123DEF456"},"min_severity":"SeemsDown"}`, "", ""},
		"slack":               {`{"label":"s","transport":"slack","destination":{"webhook_url":"https://hooks.slack.com/services/T/B/X"},"max_per_hour":0}`, "", ""},
		"teams needs https":   {`{"label":"t","transport":"teams","destination":{"webhook_url":"http://outlook.example/x"}}`, "invalid_alert_contact", "destination.webhook_url"},
		"unknown transport":   {`{"label":"x","transport":"sms","destination":{"number":"1"}}`, "invalid_transport", "transport"},
		"wrong key":           {`{"label":"x","transport":"email","destination":{"webhook_url":"https://x"}}`, "invalid_alert_contact", "destination.webhook_url"},
		"no destination":      {`{"label":"x","transport":"email","destination":{}}`, "invalid_alert_contact", "destination.address"},
		"bad address":         {`{"label":"x","transport":"email","destination":{"address":"Ops <ops@example.com>"}}`, "invalid_alert_contact", "destination.address"},
		"pagerduty key shape": {`{"label":"x","transport":"pagerduty","destination":{"integration_key":"no spaces please"}}`, "invalid_alert_contact", "destination.integration_key"},
		"severity with space": {`{"label":"x","transport":"email","destination":{"address":"a@b.example"},"min_severity":"Seems Down"}`, "invalid_severity", "min_severity"},
		"negative cap":        {`{"label":"x","transport":"email","destination":{"address":"a@b.example"},"max_per_hour":-1}`, "invalid_alert_contact", "max_per_hour"},
		"blank label":         {`{"label":"  ","transport":"email","destination":{"address":"a@b.example"}}`, "invalid_alert_contact", "label"},
		"unknown field":       {`{"label":"x","transport":"email","destination":{"address":"a@b.example"},"severity":"Down"}`, "invalid_body", "severity"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := h.do(post("/api/v1/alert-contacts", tokWrite, tc.body))
			var env ErrorEnvelope
			r.json(t, &env)
			if tc.code == "" {
				must(t, r, 201)
				var c AlertContact
				r.json(t, &c)
				if c.DestinationPreview == "" || strings.Contains(string(r.body), `"destination"`) {
					t.Errorf("created contact = %s", r.body)
				}
				return
			}
			if string(env.Error.Code) != tc.code || env.Error.Field != tc.field {
				t.Errorf("= %d %s/%s, want %s/%s: %s", r.status, env.Error.Code, env.Error.Field, tc.code, tc.field, r.body)
			}
		})
	}
}

func TestAlertContactPatchAndTest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedContact(70, nil)(h)
	var c AlertContact
	must(t, h.do(patchReq("/api/v1/alert-contacts/70", `{"destination":{"address":"new@example.org"},"min_severity":"Warning"}`)), 200).json(t, &c)
	if c.DestinationPreview != ".org" || c.MinSeverity != "Warning" {
		t.Errorf("patched = %+v", c)
	}
	if r := h.do(patchReq("/api/v1/alert-contacts/70", `{"destination":{"webhook_url":"https://x.example"}}`)); r.code() != "invalid_alert_contact" {
		t.Errorf("a destination of another transport: %s", r.body)
	}
	if r := h.do(patchReq("/api/v1/alert-contacts/70", `{"transport":"slack"}`)); r.code() != "invalid_body" {
		t.Errorf("the transport cannot change: %s", r.body)
	}
	var res AlertContactTestResponse
	must(t, h.do(post("/api/v1/alert-contacts/70/test", tokWrite, nil)), 200).json(t, &res)
	if !res.Delivered || res.StatusCode != 202 || res.Error != nil {
		t.Errorf("test = %+v", res)
	}
	h.ops.mu.Lock()
	h.ops.send, h.ops.sendErr = uptime.SendResult{StatusCode: 500, Response: "nope"},
		errors.New(`Post "https://hooks.slack.com/services/T000/B000/SECRET": 500`)
	h.ops.mu.Unlock()
	r := must(t, h.do(post("/api/v1/alert-contacts/70/test", tokWrite, nil)), 502)
	r.json(t, &res)
	if res.Delivered || res.StatusCode != 500 || res.Error == nil || strings.Contains(string(r.body), "SECRET") {
		t.Errorf("failed test = %s", r.body)
	}
}

func TestDeliveriesRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedDelivery(50, 60, uptime.DeliveryAbandoned)(h)
	seedDelivery(51, 61, uptime.DeliveryFailed)(h)
	h.db.mu.Lock()
	h.db.attempts[60] = []uptime.DeliveryAttempt{{ID: 1, DeliveryID: 60, Attempt: 1, Outcome: "abandoned", StatusCode: 410,
		Error: "dial https://hook.example/path?token=abc: refused", StartedAt: t0}}
	h.db.mu.Unlock()
	var d RetriedWebhookDelivery
	must(t, h.do(post("/api/v1/webhooks/50/deliveries/60/retry", tokWrite, nil)), 200).json(t, &d)
	if d.Status != uptime.DeliveryPending || d.Attempt != 0 || len(d.Attempts) != 1 || d.WebhookID != 50 {
		t.Errorf("retried = %+v", d)
	}
	if e := deref(d.Attempts[0].Error); strings.Contains(e, "token=abc") || !strings.Contains(e, "https://hook.example/") {
		t.Errorf("attempt error not redacted: %q", e)
	}
	if r := must(t, h.do(post("/api/v1/webhooks/50/deliveries/60/retry", tokWrite, nil)), 409); r.code() != "delivery_not_retryable" {
		t.Errorf("pending again: %s", r.body)
	}
	if r := must(t, h.do(post("/api/v1/webhooks/50/deliveries/61/retry", tokWrite, nil)), 404); r.code() != "delivery_not_found" {
		t.Errorf("another webhook's delivery: %s", r.body)
	}
	h.ops.mu.Lock()
	h.ops.retryErr = ErrNotFound
	h.ops.mu.Unlock()
	if r := must(t, h.do(post("/api/v1/webhooks/51/deliveries/61/retry", tokWrite, nil)), 404); r.code() != "delivery_not_found" {
		t.Errorf("deliverer says not found: %s", r.body)
	}
}

func TestGatewayTenantScoping(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tenant := func(id string) []string {
		return []string{headerTenantID, id, headerGatewayRequestID, "gw-1", headerPublicScopes, "sites:read sites:write"}
	}
	mine := req{method: http.MethodPost, path: "/api/v1/sites", token: tokGateway, header: tenant("t1"),
		body: `{"blog_id":11,"monitor_url":"https://t1.example"}`}
	must(t, h.do(mine), 201)
	h.seedSite(12) // not the tenant's
	var list List[Site]
	must(t, h.do(req{method: http.MethodGet, path: "/api/v1/sites", token: tokGateway, header: tenant("t1")}), 200).json(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != 11 {
		t.Errorf("tenant list = %+v", list.Data)
	}
	if r := h.do(req{method: http.MethodGet, path: "/api/v1/sites/12", token: tokGateway, header: tenant("t1")}); r.code() != "site_not_found" {
		t.Errorf("another tenant's site: %s", r.body)
	}
	ev := h.seedEvent(uptime.Event{BlogID: 12, Severity: 4, State: uptime.StateDown, StartedAt: t0})
	if r := h.do(req{method: http.MethodGet, path: "/api/v1/events/" + itoa(ev.ID), token: tokGateway, header: tenant("t1")}); r.code() != "event_not_found" {
		t.Errorf("an event of another tenant's site: %s", r.body)
	}
	must(t, h.do(req{method: http.MethodGet, path: "/api/v1/events/" + itoa(ev.ID), token: tokGateway}), 200) // unscoped
	must(t, h.do(req{method: http.MethodPost, path: "/api/v1/webhooks", token: tokGateway, header: tenant("t1"), body: `{"url":"https://t1.example/h"}`}), 201)
	var hooks List[Webhook]
	must(t, h.do(req{method: http.MethodGet, path: "/api/v1/webhooks", token: tokGateway, header: tenant("t2")}), 200).json(t, &hooks)
	if len(hooks.Data) != 0 {
		t.Errorf("tenant t2 sees t1's webhook")
	}
	if r := h.do(req{method: http.MethodGet, path: "/api/v1/sites", token: tokGateway, header: []string{headerTenantID, "t1", headerPublicScopes, "x"}}); r.code() != "invalid_gateway_context" {
		t.Errorf("missing gateway request id: %s", r.body)
	}
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	if last := h.db.audit[len(h.db.audit)-2]; last.Tenant != "t2" {
		t.Errorf("audit tenant = %q", last.Tenant)
	}
}
