package jetmoncmd

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Benchmark fleet (issue 7 item 11).
const (
	benchSites      = 100_000
	benchOpenEvents = 1_000 // one open event on every 100th site
	benchInsertRows = 2_000 // rows per multi-row INSERT
)

// BenchmarkAPISites measures GET /sites (one page of 50, at cursors spread
// over the whole table) and GET /sites/{id} (random sites) through the real
// HTTP handler, auth, rate limit and audit row included, with 100,000 sites
// and 1,000 open events. It reports the latency percentiles p50_ms and
// p99_ms.
func BenchmarkAPISites(b *testing.B) {
	w := newAPIWorld(b)
	w.logger = slog.New(slog.DiscardHandler)
	seedBench(b, w.db)
	base, token := benchServer(b, w)
	client := &http.Client{Timeout: 30 * time.Second}
	cursors := benchCursors(b, client, base, token)
	b.Run("list_page", func(b *testing.B) {
		i := 0
		benchLatency(b, func() string {
			i++
			return base + "/sites?limit=50&cursor=" + url.QueryEscape(cursors[i%len(cursors)])
		}, client, token)
	})
	b.Run("get_site", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		benchLatency(b, func() string { return base + "/sites/" + strconv.Itoa(1+rng.IntN(benchSites)) }, client, token)
	})
}

// seedBench inserts the sites and the open events with multi-row INSERTs.
func seedBench(b *testing.B, db *sql.DB) {
	b.Helper()
	ctx := b.Context()
	for start := 1; start <= benchSites; start += benchInsertRows {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active, check_interval, site_status) VALUES `)
		for blog := start; blog < start+benchInsertRows && blog <= benchSites; blog++ {
			if blog > start {
				sb.WriteByte(',')
			}
			status := 1
			if blog%(benchSites/benchOpenEvents) == 0 {
				status = 2
			}
			fmt.Fprintf(&sb, "(%d,%d,'https://site%d.example/',1,5,%d)", blog, blog%1000, blog, status)
		}
		if _, err := db.ExecContext(ctx, sb.String()); err != nil {
			b.Fatal(err)
		}
	}
	var sb strings.Builder
	sb.WriteString(`INSERT INTO jetmon_events (blog_id, check_type, severity, state, started_at) VALUES `)
	for i := 1; i <= benchOpenEvents; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d,'http',4,'Down',NOW(3) - INTERVAL %d MINUTE)", i*(benchSites/benchOpenEvents), i)
	}
	if _, err := db.ExecContext(ctx, sb.String()); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE TABLE jetpack_monitor_sites, jetmon_events`); err != nil {
		b.Fatal(err)
	}
}

// benchServer serves the API with the role's wiring on an httptest server
// and returns its base URL and a read key's token (with no rate limit to
// speak of).
func benchServer(b *testing.B, w *apiWorld) (string, string) {
	b.Helper()
	c := w.apiServer("bench", "", nil)
	store, err := apistore.New(w.db, apistore.Opts{})
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := store.CreateKey(b.Context(), apistore.NewKey{Consumer: "bench", Scope: uptime.ScopeRead,
		RateLimitPerMinute: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	return c.base, token
}

// benchCursors walks GET /sites once and returns the cursor of every page.
func benchCursors(b *testing.B, client *http.Client, base, token string) []string {
	b.Helper()
	cursors := []string{""}
	for next := ""; ; {
		var page struct {
			Page struct {
				Next *string `json:"next"`
			} `json:"page"`
		}
		body := benchGet(b, client, base+"/sites?limit=200&cursor="+url.QueryEscape(next), token)
		if err := json.Unmarshal(body, &page); err != nil {
			b.Fatal(err)
		}
		if page.Page.Next == nil {
			break
		}
		next = *page.Page.Next
		cursors = append(cursors, next)
	}
	if len(cursors) != benchSites/200 {
		b.Fatalf("%d pages of 200, want %d", len(cursors), benchSites/200)
	}
	return cursors
}

// benchLatency runs GET url() per iteration and reports its p50 and p99.
func benchLatency(b *testing.B, next func() string, client *http.Client, token string) {
	var samples []time.Duration
	for b.Loop() {
		u := next()
		start := time.Now()
		benchGet(b, client, u, token)
		samples = append(samples, time.Since(start))
	}
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}

// benchGet sends one authenticated GET and fails unless it answers 200.
func benchGet(b *testing.B, client *http.Client, u, token string) []byte {
	req, err := http.NewRequestWithContext(context.WithoutCancel(b.Context()), http.MethodGet, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %s %v", u, resp.StatusCode, body, err)
	}
	return body
}
