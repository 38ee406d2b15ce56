package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

const tokFuzz = "jm_FUZZAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// fuzzBody sends arbitrary bodies to one route: never a 5xx (a panic is a
// recovered 500), and a JSON object with a key that is not exactly a field
// of the request type is always 400 invalid_body.
func fuzzBody[T any](f *testing.F, method, path string, seeds ...string) {
	h := newHarness(f)
	h.addKey(tokFuzz, uptime.APIKey{ID: 99, Consumer: "fuzz", Scope: uptime.ScopeWrite, RateLimitPerMinute: 1 << 30})
	h.seedSite(1)
	ev := h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0})
	seedWebhook(50)(h)
	seedContact(70, nil)(h)
	known := map[string]bool{}
	for name := range fieldIndex(reflect.TypeFor[T]()) {
		known[name] = true
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"definitely_unknown":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`{"a":`))
	path = expandPath(path, ev.ID)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := h.doWith(t, req{method: method, path: path, token: tokFuzz, body: body})
		if r.status >= 500 {
			t.Fatalf("%s %s %q = %d: %s", method, path, body, r.status, r.body)
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(body, &keys) != nil {
			return
		}
		for k := range keys {
			if !known[k] && (r.status != 400 || r.code() != "invalid_body") {
				t.Fatalf("unknown field %q answered %d %s", k, r.status, r.body)
			}
		}
	})
}

func expandPath(path string, eventID int64) string {
	if path == "/api/v1/sites/1/events/{event}/close" {
		return "/api/v1/sites/1/events/" + itoa(eventID) + "/close"
	}
	return path
}

func FuzzCreateSite(f *testing.F) {
	fuzzBody[CreateSiteRequest](f, http.MethodPost, "/api/v1/sites",
		`{"blog_id":2,"monitor_url":"https://a.example"}`,
		`{"blog_id":3,"monitor_url":"https://a.example","custom_headers":{"X-A":"b"},"forbidden_keywords":["x"],"timeout_seconds":5}`,
		`{"blog_id":4,"monitor_url":"https://a.example","maintenance_start":"2026-01-01T00:00:00Z"}`,
		`{"blog_id":-1,"monitor_url":"http://"}`, `{"blog_id":1e400}`, `{"BLOG_ID":5}`, `{"blog_id":6,"blog_id":7}`)
}

func FuzzPatchSite(f *testing.F) {
	fuzzBody[UpdateSiteRequest](f, http.MethodPatch, "/api/v1/sites/1",
		`{"check_interval":10}`, `{"check_keyword":null,"timeout_seconds":null}`, `{"monitor_url":null}`,
		`{"maintenance_start":"2026-01-01T00:00:00Z","maintenance_end":"2025-01-01T00:00:00Z"}`,
		`{"custom_headers":{"":""}}`, `{"monitor_active":false}`, `{"bucket_no":99999}`)
}

func FuzzCreateWebhook(f *testing.F) {
	fuzzBody[CreateWebhookRequest](f, http.MethodPost, "/api/v1/webhooks",
		`{"url":"https://h.example"}`, `{"url":"https://h.example","events":["event.closed"],"site_filter":{"site_ids":[1]}}`,
		`{"url":"https://h.example","state_filter":{"states":["Nope"]}}`, `{"url":"https://h.example","site_filter":{"x":1}}`)
}

func FuzzPatchWebhook(f *testing.F) {
	fuzzBody[UpdateWebhookRequest](f, http.MethodPatch, "/api/v1/webhooks/50",
		`{"active":false}`, `{"events":[]}`, `{"url":null}`, `{"state_filter":{"states":["Down"]}}`)
}

func FuzzCreateAlertContact(f *testing.F) {
	fuzzBody[CreateAlertContactRequest](f, http.MethodPost, "/api/v1/alert-contacts",
		`{"label":"a","transport":"email","destination":{"address":"a@b.example"}}`,
		`{"label":"a","transport":"slack","destination":{"webhook_url":"https://x.example"},"min_severity":"Warning","max_per_hour":1}`,
		`{"label":"a","transport":"teams","destination":{"address":1}}`, `{"label":"","transport":""}`)
}

func FuzzPatchAlertContact(f *testing.F) {
	fuzzBody[UpdateAlertContactRequest](f, http.MethodPatch, "/api/v1/alert-contacts/70",
		`{"label":"b"}`, `{"destination":{"address":"c@d.example"}}`, `{"min_severity":"Nope"}`, `{"max_per_hour":-5}`)
}

func FuzzCloseEvent(f *testing.F) {
	fuzzBody[CloseEventRequest](f, http.MethodPost, "/api/v1/sites/1/events/{event}/close",
		``, `{}`, `{"reason":"false_alarm","note":"x"}`, `{"reason":"opened"}`, `{"note":null}`)
}
