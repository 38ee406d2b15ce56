package apistore_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// fullSite sets every configuration field.
func fullSite(blog int64) uptime.SiteConfig {
	return uptime.SiteConfig{
		BlogID: blog, Bucket: 17, URL: "https://full.example/", Active: true, CheckIntervalMin: 3,
		Keyword: "Welcome", ForbiddenKeywords: []string{"error", "hacked"},
		Headers: map[string]string{"X-Jetmon-CLI-Batch": "b1"}, TimeoutSec: 20,
		RedirectPolicy: uptime.RedirectFail, MaintenanceStart: t0, MaintenanceEnd: t0.Add(time.Hour),
		AlertCooldownMin: ptr(15),
	}
}

// config is c's configuration fields only (what a write sets).
func config(c uptime.SiteConfig) uptime.SiteConfig {
	return uptime.SiteConfig{BlogID: c.BlogID, Bucket: c.Bucket, URL: c.URL, Active: c.Active,
		CheckIntervalMin: c.CheckIntervalMin, Keyword: c.Keyword, ForbiddenKeywords: c.ForbiddenKeywords,
		Headers: c.Headers, TimeoutSec: c.TimeoutSec, RedirectPolicy: c.RedirectPolicy,
		MaintenanceStart: c.MaintenanceStart, MaintenanceEnd: c.MaintenanceEnd, AlertCooldownMin: c.AlertCooldownMin}
}

func TestCreateSite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	tests := []struct {
		name    string
		site    uptime.SiteConfig
		tenant  api.Tenant
		want    uptime.SiteConfig
		wantErr error
	}{
		{name: "every field", site: fullSite(1), want: fullSite(1)},
		{name: "minimal site takes the defaults", site: uptime.SiteConfig{BlogID: 2, URL: "http://min.example/", Active: true},
			want: uptime.SiteConfig{BlogID: 2, URL: "http://min.example/", Active: true, RedirectPolicy: uptime.RedirectFollow}},
		{name: "with a tenant", site: uptime.SiteConfig{BlogID: 3, URL: "http://t.example/"}, tenant: "tenant-a",
			want: uptime.SiteConfig{BlogID: 3, URL: "http://t.example/", RedirectPolicy: uptime.RedirectFollow}},
		{name: "tenant mapping left over from a deleted row", site: uptime.SiteConfig{BlogID: 4, URL: "http://t.example/"},
			tenant: "tenant-a", want: uptime.SiteConfig{BlogID: 4, URL: "http://t.example/", RedirectPolicy: uptime.RedirectFollow}},
		{name: "existing blog id", site: uptime.SiteConfig{BlogID: 1, URL: "http://dup.example/"}, tenant: "tenant-b",
			wantErr: api.ErrConflict},
	}
	w.exec(t, `INSERT INTO jetmon_site_tenants (tenant_id, blog_id) VALUES ('tenant-a', 4)`)
	for _, tt := range tests {
		got, err := w.store.CreateSite(ctx, tt.site, tt.tenant)
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		if !reflect.DeepEqual(config(got), tt.want) || got.LegacyStatus != uptime.LegacySiteRunning ||
			got.CreatedAt.IsZero() || !got.LastStatusChange.IsZero() {
			t.Fatalf("%s: created %+v, want %+v", tt.name, got, tt.want)
		}
		again, err := w.store.GetSite(ctx, tt.site.BlogID, tt.tenant)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("%s: read back %+v, %v; want %+v", tt.name, again, err, got)
		}
	}
	if _, err := w.store.GetSite(ctx, 3, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("another tenant sees the site: %v", err)
	}
	if _, err := w.store.GetSite(ctx, 1, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("the refused create mapped blog 1 to tenant-b: %v", err)
	}
	var n int
	if err := w.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 1`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("blog 1 has %d rows, %v", n, err)
	}
}

func TestCreateSiteConcurrently(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const racers = 6
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		created   int
		conflicts int
		others    []error
		start     = make(chan struct{})
	)
	for range racers {
		wg.Go(func() {
			<-start
			_, err := w.store.CreateSite(t.Context(), uptime.SiteConfig{BlogID: 77, URL: "http://race.example/"}, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, api.ErrConflict):
				conflicts++
			default:
				others = append(others, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if created != 1 || conflicts != racers-1 {
		t.Fatalf("%d created, %d conflicts, other errors %v; want 1 and %d", created, conflicts, others, racers-1)
	}
}

func TestGetAndListSites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	for blog := int64(1); blog <= 7; blog++ {
		w.addSite(t, blog, blog%3 != 0, "https://site.example/"+string(rune('a'+blog)))
	}
	// Blog 2 has an older inactive and a newer inactive legacy row beside its
	// active one; blog 3 only inactive rows: one site each.
	w.addSite(t, 2, false, "https://stale.example/")
	w.addSite(t, 3, false, "https://newest-inactive.example/")
	w.addSite(t, 8, true, "https://100%_literal.example/")
	w.addSite(t, 9, true, "https://1000xliteral.example/")
	w.exec(t, `INSERT INTO jetmon_site_tenants (tenant_id, blog_id) VALUES ('t1', 2), ('t1', 5), ('t2', 5)`)

	got, err := w.store.GetSite(ctx, 2, "")
	if err != nil || got.URL != "https://site.example/c" || !got.Active {
		t.Fatalf("blog 2: %+v, %v; want its active row", got, err)
	}
	got, err = w.store.GetSite(ctx, 3, "")
	if err != nil || got.URL != "https://newest-inactive.example/" || got.Active {
		t.Fatalf("blog 3: %+v, %v; want its newest row", got, err)
	}
	if _, err := w.store.GetSite(ctx, 404, ""); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("missing blog: %v", err)
	}
	yes, no := true, false
	tests := []struct {
		name string
		q    api.SiteQuery
		want []int64
	}{
		{"first page", api.SiteQuery{Limit: 3}, []int64{1, 2, 3}},
		{"next page", api.SiteQuery{AfterBlogID: 3, Limit: 3}, []int64{4, 5, 6}},
		{"last page", api.SiteQuery{AfterBlogID: 6, Limit: 3}, []int64{7, 8, 9}},
		{"past the end", api.SiteQuery{AfterBlogID: 9, Limit: 3}, nil},
		{"active only", api.SiteQuery{Active: &yes, Limit: 50}, []int64{1, 2, 4, 5, 7, 8, 9}},
		{"inactive only", api.SiteQuery{Active: &no, Limit: 50}, []int64{3, 6}},
		{"url substring is literal", api.SiteQuery{URLContains: "100%_", Limit: 50}, []int64{8}},
		{"tenant t1", api.SiteQuery{Tenant: "t1", Limit: 50}, []int64{2, 5}},
		{"tenant t2 after a cursor", api.SiteQuery{Tenant: "t2", AfterBlogID: 5, Limit: 50}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sites, err := w.store.ListSites(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, s := range sites {
				ids = append(ids, s.BlogID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Fatalf("blogs %v, want %v", ids, tt.want)
			}
		})
	}
	if _, err := w.store.ListSites(ctx, api.SiteQuery{}); err == nil {
		t.Fatal("limit 0 accepted")
	}
}

func TestUpdateSite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	created, err := w.store.CreateSite(ctx, fullSite(10), "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	// The coordinator's projection says Down: the API must never touch it.
	w.exec(t, `UPDATE jetpack_monitor_sites SET site_status = 2, last_status_change = ?, last_checked_at = ?,
		updated_at = updated_at WHERE blog_id = 10`, t0.Add(-time.Hour), t0.Add(-time.Minute))
	sites, err := sqlstore.NewSites(w.db, sqlstore.SitesOpts{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		patch  api.SitePatch
		tenant api.Tenant
		want   func(*uptime.SiteConfig)
		err    error
	}{
		{name: "another tenant", patch: api.SitePatch{URL: ptr("https://x.example/")}, tenant: "tenant-b", err: api.ErrNotFound},
		{name: "url, bucket and interval", patch: api.SitePatch{URL: ptr("https://new.example/"), Bucket: ptr(3),
			CheckIntervalMin: ptr(1)}, tenant: "tenant-a",
			want: func(c *uptime.SiteConfig) { c.URL, c.Bucket, c.CheckIntervalMin = "https://new.example/", 3, 1 }},
		{name: "clear nullable fields", patch: api.SitePatch{Keyword: ptr(""), ForbiddenKeywords: &[]string{},
			Headers: &map[string]string{}, TimeoutSec: ptr(0), MaintenanceStart: &time.Time{},
			MaintenanceEnd: &time.Time{}, ClearAlertCooldown: true},
			want: func(c *uptime.SiteConfig) {
				c.Keyword, c.ForbiddenKeywords, c.Headers, c.TimeoutSec = "", nil, nil, 0
				c.MaintenanceStart, c.MaintenanceEnd, c.AlertCooldownMin = time.Time{}, time.Time{}, nil
			}},
		{name: "set them again", patch: api.SitePatch{Keyword: ptr("Hi"), ForbiddenKeywords: &[]string{"x"},
			Headers: &map[string]string{"A": "b"}, TimeoutSec: ptr(9), RedirectPolicy: ptr(uptime.RedirectAlert),
			AlertCooldownMin: ptr(0)},
			want: func(c *uptime.SiteConfig) {
				c.Keyword, c.ForbiddenKeywords, c.Headers, c.TimeoutSec = "Hi", []string{"x"}, map[string]string{"A": "b"}, 9
				c.RedirectPolicy, c.AlertCooldownMin = uptime.RedirectAlert, ptr(0)
			}},
		{name: "pause", patch: api.SitePatch{Active: ptr(false)},
			want: func(c *uptime.SiteConfig) { c.Active = false }},
		{name: "resume", patch: api.SitePatch{Active: ptr(true)}, want: func(c *uptime.SiteConfig) { c.Active = true }},
		{name: "empty url", patch: api.SitePatch{URL: ptr("")}, err: errors.New("monitor_url must not be empty")},
		{name: "cooldown set and cleared", patch: api.SitePatch{AlertCooldownMin: ptr(1), ClearAlertCooldown: true},
			err: errors.New("set and clear")},
	}
	want := config(created)
	for _, tt := range tests {
		before, err := w.store.GetSite(ctx, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.store.UpdateSite(ctx, 10, tt.patch, tt.tenant)
		if tt.err != nil {
			if err == nil || (!errors.Is(err, tt.err) && !contains(err, tt.err.Error())) {
				t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		tt.want(&want)
		if !reflect.DeepEqual(config(got), want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", tt.name, config(got), want)
		}
		if got.LegacyStatus != uptime.LegacySiteConfirmedDown || !got.LastStatusChange.Equal(t0.Add(-time.Hour)) ||
			!got.LastCheckedAt.Equal(t0.Add(-time.Minute)) {
			t.Fatalf("%s: the projection moved: %+v", tt.name, got)
		}
		if !got.UpdatedAt.After(before.UpdatedAt) {
			t.Fatalf("%s: updated_at %v did not move from %v", tt.name, got.UpdatedAt, before.UpdatedAt)
		}
		changed, err := sites.ChangedSince(ctx, before.UpdatedAt.Add(time.Millisecond))
		if err != nil || len(changed) != 1 || changed[0].Site.BlogID != 10 || changed[0].Active != want.Active {
			t.Fatalf("%s: the coordinator's incremental sync sees %+v, %v", tt.name, changed, err)
		}
	}
	before, _ := w.store.GetSite(ctx, 10, "")
	same, err := w.store.UpdateSite(ctx, 10, api.SitePatch{}, "")
	if err != nil || !same.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("empty patch: %+v, %v; want the site unchanged", same, err)
	}
	if _, err := w.store.UpdateSite(ctx, 404, api.SitePatch{Active: ptr(true)}, ""); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("missing blog: %v", err)
	}
}

func TestUpdateSiteLegacyRows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	w.addSite(t, 5, true, "https://a.example/")
	w.addSite(t, 5, true, "https://b.example/")
	newest := w.addSite(t, 5, false, "https://c.example/")
	got, err := w.store.UpdateSite(ctx, 5, api.SitePatch{Active: ptr(false), Keyword: ptr("k")}, "")
	if err != nil || got.Active || got.Keyword != "k" {
		t.Fatalf("pause: %+v, %v", got, err)
	}
	var active int
	if err := w.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 5 AND monitor_active = 1`).
		Scan(&active); err != nil || active != 0 {
		t.Fatalf("%d rows still active after a pause, %v", active, err)
	}
	got, err = w.store.UpdateSite(ctx, 5, api.SitePatch{Active: ptr(true)}, "")
	if err != nil || !got.Active || got.URL != "https://c.example/" || got.Keyword != "k" {
		t.Fatalf("resume: %+v, %v; want the newest row active", got, err)
	}
	var id int64
	if err := w.db.QueryRowContext(ctx, `SELECT jetpack_monitor_site_id FROM jetpack_monitor_sites
		WHERE blog_id = 5 AND monitor_active = 1`).Scan(&id); err != nil || id != newest {
		t.Fatalf("active row %d, %v; want %d alone", id, err, newest)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
