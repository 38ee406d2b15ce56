package api

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// walk pages through path with limit 2 and returns every id in order.
func walk(t *testing.T, h *harness, path string) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatalf("%s: no last page", path)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := path + sep + "limit=2"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Data []struct {
				ID int64 `json:"id"`
			} `json:"data"`
			Page Page `json:"page"`
		}
		must(t, h.get(p, tokRead), 200).json(t, &page)
		if page.Page.Limit != 2 || len(page.Data) > 2 {
			t.Fatalf("%s: page %+v", p, page.Page)
		}
		for _, d := range page.Data {
			ids = append(ids, d.ID)
		}
		if page.Page.Next == nil {
			return ids
		}
		cursor = *page.Page.Next
	}
}

func TestPaginationAcrossPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, id := range []int64{5, 1, 4, 2, 3} {
		h.seedSite(id)
	}
	var events, transitions []int64
	for i := range 5 {
		ev := h.seedEvent(uptime.Event{BlogID: 1, Severity: 4, State: uptime.StateDown, StartedAt: t0.Add(time.Duration(i) * time.Minute),
			EndedAt: t0.Add(time.Hour)})
		events = append([]int64{ev.ID}, events...)
	}
	for i := range 4 {
		h.db.mu.Lock()
		id := h.db.id()
		h.db.transitions = append(h.db.transitions, uptime.Transition{ID: id, EventID: events[0], BlogID: 1,
			StateAfter: uptime.StateDown, Reason: uptime.ReasonStateChange, ChangedAt: t0.Add(time.Duration(i) * time.Second)})
		h.db.mu.Unlock()
		transitions = append(transitions, id)
	}
	transitions = append([]int64{h.db.transitions[4].ID}, transitions...) // the opening one is first
	var hooks, contacts, deliveries []int64
	for range 5 {
		w := uptime.Webhook{URL: "https://h.example", Active: true}
		got, _ := h.db.CreateWebhook(t.Context(), w, "")
		hooks = append(hooks, got.ID)
		c, _ := h.db.CreateAlertContact(t.Context(), uptime.AlertContact{Label: "c", Transport: uptime.TransportEmail}, "")
		contacts = append(contacts, c.ID)
	}
	h.db.mu.Lock()
	for range 5 {
		id := h.db.id()
		h.db.deliveries[id] = uptime.Delivery{ID: id, Kind: uptime.DeliveryWebhook, DestinationID: hooks[0], Status: uptime.DeliveryDelivered}
		deliveries = append([]int64{id}, deliveries...)
	}
	h.db.mu.Unlock()
	tests := map[string]struct {
		path string
		want []int64
	}{
		"sites, blog_id ascending":  {"/api/v1/sites", []int64{1, 2, 3, 4, 5}},
		"events, newest first":      {"/api/v1/sites/1/events", events},
		"transitions, in order":     {"/api/v1/sites/1/events/" + itoa(events[0]) + "/transitions", transitions},
		"webhooks":                  {"/api/v1/webhooks", hooks},
		"alert contacts":            {"/api/v1/alert-contacts", contacts},
		"deliveries, newest first":  {"/api/v1/webhooks/" + itoa(hooks[0]) + "/deliveries", deliveries},
		"filtered events page on":   {"/api/v1/sites/1/events?active=false", events},
		"an empty list has no next": {"/api/v1/alert-contacts/" + itoa(contacts[1]) + "/deliveries", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := walk(t, h, tc.path); !equalIDs(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPaginationParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for id := int64(1); id <= 3; id++ {
		h.seedSite(id)
	}
	var page List[Site]
	must(t, h.get("/api/v1/sites?limit=100000", tokRead), 200).json(t, &page)
	if page.Page.Limit != 200 {
		t.Errorf("a limit above the maximum is clamped: %d", page.Page.Limit)
	}
	foreign, _ := json.Marshal(cursorWire{List: "webhooks", ID: 1})
	tests := map[string]struct{ query, code string }{
		"limit zero":         {"limit=0", "invalid_limit"},
		"limit text":         {"limit=ten", "invalid_limit"},
		"not json":           {"cursor=abc", "invalid_cursor"},
		"not base64":         {"cursor=!!", "invalid_cursor"},
		"another list's one": {"cursor=" + b64(foreign), "invalid_cursor"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := h.get("/api/v1/sites?"+tc.query, tokRead)
			if r.status != 400 || r.code() != tc.code {
				t.Errorf("%s: %d %s", tc.query, r.status, r.body)
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
