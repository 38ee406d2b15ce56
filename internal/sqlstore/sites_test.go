package sqlstore_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// past is an updated_at before every test's cut-off.
var past = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// insertSite inserts a jetpack_monitor_sites row for blogID in bucket with
// the given extra columns (the rest take their defaults; updated_at defaults
// to past) and returns its jetpack_monitor_site_id.
func insertSite(t testing.TB, db *sql.DB, blogID int64, bucket int, extra map[string]any) int64 {
	t.Helper()
	cols := map[string]any{"blog_id": blogID, "bucket_no": bucket,
		"monitor_url": fmt.Sprintf("https://%d.example", blogID), "updated_at": past}
	maps.Copy(cols, extra)
	names := slices.Sorted(maps.Keys(cols))
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = cols[n]
	}
	res, err := db.ExecContext(t.Context(), "INSERT INTO jetpack_monitor_sites ("+strings.Join(names, ", ")+
		") VALUES (?"+strings.Repeat(", ?", len(names)-1)+")", args...)
	if err != nil {
		t.Fatalf("insert site %d: %v", blogID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		t.Fatalf("insert site %d: %v", blogID, err)
	}
	return id
}

func newSites(t *testing.T, db *sql.DB, opts sqlstore.SitesOpts) *sqlstore.Sites {
	t.Helper()
	s, err := sqlstore.NewSites(db, opts)
	if err != nil {
		t.Fatalf("NewSites: %v", err)
	}
	return s
}

// defaultSite is the Site of a row inserted by insertSite without extras.
func defaultSite(blogID int64, bucket int) uptime.Site {
	return uptime.Site{BlogID: blogID, Bucket: bucket, CheckInterval: 5 * time.Minute, UpdatedAt: past,
		Spec: uptime.CheckSpec{BlogID: blogID, URL: fmt.Sprintf("https://%d.example", blogID),
			RedirectPolicy: uptime.RedirectFollow}}
}

func TestSitesColumnMapping(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		extra    map[string]any
		edit     func(*uptime.Site)
		wantWarn bool
	}{
		{name: "defaults", edit: func(*uptime.Site) {}},
		{name: "every config column",
			extra: map[string]any{"check_interval": 0, "check_keyword": "hello", "timeout_seconds": 7,
				"forbidden_keywords": `["bad", "", "worse"]`, "custom_headers": `{"X-A": "1", "User-Agent": "me"}`,
				"redirect_policy": "alert", "maintenance_start": start, "maintenance_end": start.Add(time.Hour),
				"alert_cooldown_minutes": 15},
			edit: func(s *uptime.Site) {
				s.CheckInterval = 0
				s.Spec.Keyword, s.Spec.Timeout = "hello", 7*time.Second
				s.Spec.ForbiddenKeywords = []string{"bad", "worse"}
				s.Spec.Headers = map[string]string{"X-A": "1", "User-Agent": "me"}
				s.Spec.RedirectPolicy = uptime.RedirectAlert
				s.MaintenanceStart, s.MaintenanceEnd = start, start.Add(time.Hour)
				s.AlertCooldown = 15 * time.Minute
			}},
		{name: "JSON null and empty values are none",
			extra: map[string]any{"forbidden_keywords": "null", "custom_headers": "{}", "timeout_seconds": 0},
			edit:  func(*uptime.Site) {}},
		{name: "headers of another shape are dropped with a warning",
			extra: map[string]any{"custom_headers": `["X-A", 1]`}, edit: func(*uptime.Site) {}, wantWarn: true},
		{name: "header values that are not strings are dropped with a warning",
			extra: map[string]any{"custom_headers": `{"X-A": 1}`}, edit: func(*uptime.Site) {}, wantWarn: true},
		{name: "forbidden keywords of another shape are dropped with a warning",
			extra: map[string]any{"forbidden_keywords": `{"a": "b"}`}, edit: func(*uptime.Site) {}, wantWarn: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.NewDB(t)
			var logs bytes.Buffer
			sites := newSites(t, db, sqlstore.SitesOpts{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			blogID := int64(100 + i)
			insertSite(t, db, blogID, 3, tt.extra)
			want := defaultSite(blogID, 3)
			tt.edit(&want)

			got, err := sites.ActiveSites(t.Context(), uptime.BucketRange{Min: 0, Max: 999})
			if err != nil {
				t.Fatalf("ActiveSites: %v", err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("ActiveSites =\n%+v\nwant\n%+v", got, []uptime.Site{want})
			}
			warns := strings.Count(logs.String(), "level=WARN")
			if (warns == 1) != tt.wantWarn || warns > 1 {
				t.Errorf("%d WARN lines, want warning %v:\n%s", warns, tt.wantWarn, logs.String())
			}
		})
	}
}

func TestSitesWarnOncePerCall(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	var logs bytes.Buffer
	sites := newSites(t, db, sqlstore.SitesOpts{PageSize: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 5 {
		insertSite(t, db, int64(i+1), 1, map[string]any{"custom_headers": `"not an object"`})
	}
	got, err := sites.ActiveSites(t.Context(), uptime.BucketRange{Min: 0, Max: 9})
	if err != nil || len(got) != 5 {
		t.Fatalf("ActiveSites = %d sites, %v, want 5 sites despite unusable headers", len(got), err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "custom_headers=5") {
		t.Errorf("logs (%d WARN lines) want one line counting 5 sites:\n%s", n, logs.String())
	}
}

func TestActiveSitesPaginates(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	var want []int64 // blog ids in the range, active, in insertion (primary key) order
	for i := range 23 {
		blogID, bucket := int64(1000+i), i%10
		extra := map[string]any{}
		switch i % 4 {
		case 1:
			extra["monitor_active"] = 0
		case 2:
			bucket = 50 + i // outside the range
		}
		insertSite(t, db, blogID, bucket, extra)
		if i%4 != 1 && i%4 != 2 {
			want = append(want, blogID)
		}
	}
	for _, pageSize := range []int{1, 2, 3, len(want) - 1, len(want), len(want) + 1, 0} {
		t.Run(fmt.Sprintf("page size %d", pageSize), func(t *testing.T) {
			t.Parallel()
			sites := newSites(t, db, sqlstore.SitesOpts{PageSize: pageSize})
			got, err := sites.ActiveSites(t.Context(), uptime.BucketRange{Min: 0, Max: 9})
			if err != nil {
				t.Fatalf("ActiveSites: %v", err)
			}
			ids := make([]int64, len(got))
			for i, s := range got {
				ids[i] = s.BlogID
			}
			if !slices.Equal(ids, want) {
				t.Errorf("blog ids = %v, want %v", ids, want)
			}
		})
	}
}

func TestActiveSitesBucketRange(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	sites := newSites(t, db, sqlstore.SitesOpts{})
	for b := range 6 {
		insertSite(t, db, int64(b+1), b, nil)
	}
	tests := []struct {
		name    string
		r       uptime.BucketRange
		want    []int64
		wantErr bool
	}{
		{name: "inner range is inclusive", r: uptime.BucketRange{Min: 2, Max: 4}, want: []int64{3, 4, 5}},
		{name: "single bucket", r: uptime.BucketRange{Min: 0, Max: 0}, want: []int64{1}},
		{name: "empty result", r: uptime.BucketRange{Min: 100, Max: 200}},
		{name: "inverted range", r: uptime.BucketRange{Min: 4, Max: 2}, wantErr: true},
		{name: "negative range", r: uptime.BucketRange{Min: -1, Max: 2}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sites.ActiveSites(t.Context(), tt.r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ActiveSites(%v) err = %v, want error %v", tt.r, err, tt.wantErr)
			}
			var ids []int64
			for _, s := range got {
				ids = append(ids, s.BlogID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ActiveSites(%v) = %v, want %v", tt.r, ids, tt.want)
			}
		})
	}
}

func TestNewSitesValidates(t *testing.T) {
	t.Parallel()
	if _, err := sqlstore.NewSites(nil, sqlstore.SitesOpts{}); err == nil {
		t.Error("NewSites(nil db) succeeded")
	}
	if _, err := sqlstore.NewSites(&sql.DB{}, sqlstore.SitesOpts{PageSize: -1}); err == nil {
		t.Error("NewSites(page size -1) succeeded")
	}
}
