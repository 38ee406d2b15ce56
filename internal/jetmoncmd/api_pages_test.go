package jetmoncmd

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// page is a list envelope with ids.
type page struct {
	Data []struct {
		ID int64 `json:"id"`
	} `json:"data"`
	Page struct {
		Next  *string `json:"next"`
		Limit int     `json:"limit"`
	} `json:"page"`
}

// walk follows a list's cursors from path (which has a query string) and
// returns the ids of each page.
func walk(t *testing.T, c *apiClient, path, token string) [][]int64 {
	t.Helper()
	var pages [][]int64
	next := ""
	for range 20 {
		p := path
		if next != "" {
			p += "&cursor=" + url.QueryEscape(next)
		}
		var pg page
		c.want(http.StatusOK, http.MethodGet, p, token, nil).decode(t, &pg)
		var ids []int64
		for _, d := range pg.Data {
			ids = append(ids, d.ID)
		}
		pages = append(pages, ids)
		if pg.Page.Next == nil {
			return pages
		}
		next = *pg.Page.Next
	}
	t.Fatalf("%s: more than 20 pages", path)
	return nil
}

func TestAPIPagination(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	c := w.apiServer("api-pages", "", nil)
	_, token := w.newKey("pager", uptime.ScopeWrite)
	for blog := int64(1); blog <= 7; blog++ {
		w.addSite(blog*10, "https://page"+strconv.FormatInt(blog, 10)+".example/")
	}
	base := time.Now().UTC().Add(-time.Hour)
	var events []int64
	for i := range 5 {
		ev := w.insertID(`INSERT INTO jetmon_events (blog_id, check_type, severity, state, started_at, ended_at)
			VALUES (10, 'http', 4, 'Down', ?, ?)`, base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute+time.Second))
		events = append(events, ev)
	}
	var transitions []int64
	for i := range 5 {
		transitions = append(transitions, w.insertID(`INSERT INTO jetmon_event_transitions (event_id, blog_id, reason, changed_at)
			VALUES (?, 10, 'opened', ?)`, events[0], base.Add(time.Duration(i)*time.Second)))
	}
	for i := range 3 {
		c.want(http.StatusCreated, http.MethodPost, "/webhooks", token,
			map[string]any{"url": "https://hooks.example/" + strconv.Itoa(i)})
	}
	tests := []struct {
		name string
		path string
		want [][]int64
	}{
		{"sites", "/sites?limit=3", [][]int64{{10, 20, 30}, {40, 50, 60}, {70}}},
		{"sites, one page", "/sites?limit=200", [][]int64{{10, 20, 30, 40, 50, 60, 70}}},
		{"site events newest first", "/sites/10/events?limit=2",
			[][]int64{{events[4], events[3]}, {events[2], events[1]}, {events[0]}}},
		{"transitions in order", "/sites/10/events/" + strconv.FormatInt(events[0], 10) + "/transitions?limit=2",
			[][]int64{transitions[0:2], transitions[2:4], transitions[4:]}},
		{"webhooks", "/webhooks?limit=2", [][]int64{{1, 2}, {3}}},
	}
	for _, tt := range tests {
		if got := walk(t, c, tt.path, token); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: pages %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, bad := range []struct{ path, code string }{
		{"/sites?limit=0", "invalid_limit"},
		{"/sites?cursor=!!", "invalid_cursor"},
	} {
		if r := c.do(http.MethodGet, bad.path, token, nil); r.status != 400 || r.errorCode() != bad.code {
			t.Errorf("%s: %d %s, want 400 %s", bad.path, r.status, r.body, bad.code)
		}
	}
}

// TestAPIIdempotency replays a POST from MySQL on a second API server
// (another process would share nothing else), refuses the same key with
// another body, and scopes keys by path.
func TestAPIIdempotency(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	first := w.apiServer("api-idem-1", "", nil)
	second := w.apiServer("api-idem-2", "", nil)
	_, token := w.newKey("idem", uptime.ScopeWrite)
	body := `{"blog_id": 501, "monitor_url": "https://idem.example/"}`
	orig := first.want(http.StatusCreated, http.MethodPost, "/sites", token, body, "Idempotency-Key", "create-501")
	if orig.header.Get("Idempotency-Replayed") != "" {
		t.Fatal("the first request was marked replayed")
	}
	replay := second.want(http.StatusCreated, http.MethodPost, "/sites", token, body, "Idempotency-Key", "create-501")
	if replay.header.Get("Idempotency-Replayed") != "true" || !bytes.Equal(replay.body, orig.body) {
		t.Fatalf("replay on the second server: %v %s; want the first answer %s", replay.header, replay.body, orig.body)
	}
	if n := w.scalar(`SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 501`); n != "1" {
		t.Fatalf("blog 501 has %s rows after a replay", n)
	}
	conflict := second.do(http.MethodPost, "/sites", token, `{"blog_id": 502, "monitor_url": "https://idem.example/"}`,
		"Idempotency-Key", "create-501")
	if conflict.status != http.StatusConflict || conflict.errorCode() != "idempotency_conflict" {
		t.Fatalf("same key, other body: %d %s; want 409 idempotency_conflict", conflict.status, conflict.body)
	}
	if n := w.scalar(`SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 502`); n != "0" {
		t.Fatal("the conflicting request created its site")
	}
	// The same key and body on another route is another request (Jetmon v2
	// replayed the first route's answer).
	hook := `{"url": "https://idem.example/hook"}`
	a := first.want(http.StatusCreated, http.MethodPost, "/webhooks", token, hook, "Idempotency-Key", "k")
	b := first.want(http.StatusCreated, http.MethodPost, "/alert-contacts", token,
		`{"label": "idem", "transport": "email", "destination": {"address": "ops@example.com"}}`, "Idempotency-Key", "k")
	if a.header.Get("Idempotency-Replayed") != "" || b.header.Get("Idempotency-Replayed") != "" {
		t.Fatal("a key reused on another route was replayed")
	}
	_, other := w.newKey("idem-other", uptime.ScopeWrite)
	c := first.want(http.StatusCreated, http.MethodPost, "/webhooks", other, hook, "Idempotency-Key", "k")
	if c.header.Get("Idempotency-Replayed") != "" || bytes.Equal(a.body, c.body) {
		t.Fatal("another API key's request was replayed")
	}
}
