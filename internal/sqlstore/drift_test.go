package sqlstore_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// driftSite is one jetpack_monitor_sites row of a drift scenario.
type driftSite struct {
	blog     int64
	bucket   int
	status   int
	inactive bool
}

// driftEvent is one jetmon_events row of a drift scenario; disc tells
// apart several open events of one site (the dedup key allows one per tuple).
type driftEvent struct {
	id, blog  int64
	checkType string
	state     string
	closed    bool
	disc      string
}

// seedDrift writes sites and events with blog and event ids shifted by
// offset and buckets by bucketBase.
func seedDrift(t *testing.T, db *sql.DB, offset int64, bucketBase int, sites []driftSite, events []driftEvent) {
	t.Helper()
	for _, s := range sites {
		active := 1
		if s.inactive {
			active = 0
		}
		exec(t, db, `INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active, site_status)
			VALUES (?, ?, 'https://example.com/', ?, ?)`, offset+s.blog, bucketBase+s.bucket, active, s.status)
	}
	for _, e := range events {
		checkType := e.checkType
		if checkType == "" {
			checkType = uptime.CheckTypeHTTP
		}
		var ended any
		if e.closed {
			ended = "2026-01-01 00:01:00"
		}
		var disc any
		if e.disc != "" {
			disc = e.disc
		}
		exec(t, db, `INSERT INTO jetmon_events (id, blog_id, check_type, discriminator, severity, state, started_at, ended_at)
			VALUES (?, ?, ?, ?, 3, ?, '2026-01-01 00:00:00', ?)`, offset+e.id, offset+e.blog, checkType, disc, e.state, ended)
	}
}

// shift makes rows read from a scenario comparable with its local ids.
func shift(rows []sqlstore.DriftRow, offset int64, bucketBase int) []sqlstore.DriftRow {
	out := slices.Clone(rows)
	for i := range out {
		out[i].BlogID -= offset
		out[i].Bucket -= bucketBase
		if out[i].EventID != 0 {
			out[i].EventID -= offset
		}
	}
	return out
}

func TestDriftRollup(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	tests := []struct {
		name   string
		sites  []driftSite
		events []driftEvent
		want   []sqlstore.DriftRow
	}{
		{name: "no sites"},
		{name: "projection agrees", sites: []driftSite{{blog: 1, status: 1}, {blog: 2, status: 0}, {blog: 3, status: 2}},
			events: []driftEvent{{id: 1, blog: 2, state: "Seems Down"}, {id: 2, blog: 3, state: "Down"}}},
		{name: "worst open state wins", sites: []driftSite{{blog: 1, status: 2}},
			events: []driftEvent{{id: 1, blog: 1, state: "Seems Down", disc: "a"}, {id: 2, blog: 1, state: "Down", disc: "b"}}},
		{name: "closed events, other check types and inactive rows are ignored",
			sites: []driftSite{{blog: 1, status: 1}, {blog: 2, status: 1}, {blog: 3, status: 0, inactive: true}},
			events: []driftEvent{{id: 1, blog: 1, state: "Down", closed: true},
				{id: 2, blog: 2, checkType: uptime.CheckTypeTLSExpiry, state: "Degraded"}, {id: 3, blog: 3, state: "Down", closed: true}}},
		{name: "a closed Down leaves a stale down row", sites: []driftSite{{blog: 1, status: 2, bucket: 3}},
			events: []driftEvent{{id: 1, blog: 1, state: "Down", closed: true}},
			want: []sqlstore.DriftRow{{BlogID: 1, Bucket: 3, SiteStatus: 2, Expected: 1,
				Cause: sqlstore.DriftStaleLegacyDownProjection}}},
		{name: "several open events count the site once and pick the oldest Down",
			sites: []driftSite{{blog: 1, status: 1}},
			events: []driftEvent{{id: 3, blog: 1, state: "Seems Down", disc: "a"}, {id: 5, blog: 1, state: "Down", disc: "b"},
				{id: 7, blog: 1, state: "Down", disc: "c"}},
			want: []sqlstore.DriftRow{{BlogID: 1, SiteStatus: 1, Expected: 2, EventID: 5, OpenEvents: 3, EventState: "Down",
				Cause: sqlstore.DriftMultipleOpenHTTPEvents}}},
		{name: "states compare byte-exactly", sites: []driftSite{{blog: 1, status: 1}, {blog: 2, status: 0}},
			events: []driftEvent{{id: 1, blog: 1, state: "down"}, {id: 2, blog: 2, state: "Seems Down "}},
			want: []sqlstore.DriftRow{{BlogID: 2, SiteStatus: 0, Expected: 1, EventID: 2, OpenEvents: 1, EventState: "Seems Down ",
				Cause: sqlstore.DriftUnexpectedOpenEventProjection}}},
		{name: "rows ordered by bucket then blog", sites: []driftSite{{blog: 9, bucket: 1, status: 0}, {blog: 8, bucket: 2, status: 0},
			{blog: 7, bucket: 1, status: 9}},
			want: []sqlstore.DriftRow{
				{BlogID: 7, Bucket: 1, SiteStatus: 9, Expected: 1, Cause: sqlstore.DriftUnexpectedProjectionValue},
				{BlogID: 9, Bucket: 1, SiteStatus: 0, Expected: 1, Cause: sqlstore.DriftStaleLegacyDownProjection},
				{BlogID: 8, Bucket: 2, SiteStatus: 0, Expected: 1, Cause: sqlstore.DriftStaleLegacyDownProjection}}},
		{name: "every other cause", sites: []driftSite{{blog: 1, status: 1}, {blog: 2, status: 1}, {blog: 3, status: 0}, {blog: 4, status: 2}},
			events: []driftEvent{{id: 1, blog: 1, state: "Down"}, {id: 2, blog: 2, state: "Seems Down"}, {id: 3, blog: 3, state: "Down"},
				{id: 4, blog: 4, state: "Seems Down"}},
			want: []sqlstore.DriftRow{
				{BlogID: 1, SiteStatus: 1, Expected: 2, EventID: 1, OpenEvents: 1, EventState: "Down", Cause: sqlstore.DriftMissingConfirmedDownProjection},
				{BlogID: 2, SiteStatus: 1, Expected: 0, EventID: 2, OpenEvents: 1, EventState: "Seems Down", Cause: sqlstore.DriftMissingSeemsDownProjection},
				{BlogID: 3, SiteStatus: 0, Expected: 2, EventID: 3, OpenEvents: 1, EventState: "Down", Cause: sqlstore.DriftMissingConfirmedPromotion},
				{BlogID: 4, SiteStatus: 2, Expected: 0, EventID: 4, OpenEvents: 1, EventState: "Seems Down", Cause: sqlstore.DriftStaleConfirmedDownProjection}}},
	}
	for i, tt := range tests {
		offset, base := int64(1000*(i+1)), 10*i
		seedDrift(t, db, offset, base, tt.sites, tt.events)
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := uptime.BucketRange{Min: base, Max: base + 9}
			n, err := sqlstore.DriftCount(t.Context(), db, r)
			if err != nil || n != len(tt.want) {
				t.Errorf("DriftCount = %d, %v; want %d", n, err, len(tt.want))
			}
			rows, err := sqlstore.DriftRows(t.Context(), db, r, 100)
			if err != nil {
				t.Fatalf("DriftRows: %v", err)
			}
			if got := shift(rows, offset, base); !slices.Equal(got, tt.want) {
				t.Errorf("DriftRows =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDriftRangeAndLimit(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seedDrift(t, db, 0, 0, []driftSite{{blog: 1, bucket: 4, status: 0}, {blog: 2, bucket: 5, status: 0},
		{blog: 3, bucket: 6, status: 0}, {blog: 4, bucket: 7, status: 0}}, nil)
	tests := []struct {
		name      string
		r         uptime.BucketRange
		limit     int
		wantCount int
		wantBlogs []int64
	}{
		{name: "whole range", r: uptime.BucketRange{Min: 0, Max: 99}, limit: 10, wantCount: 4, wantBlogs: []int64{1, 2, 3, 4}},
		{name: "inclusive bounds", r: uptime.BucketRange{Min: 5, Max: 6}, limit: 10, wantCount: 2, wantBlogs: []int64{2, 3}},
		{name: "one bucket", r: uptime.BucketRange{Min: 7, Max: 7}, limit: 10, wantCount: 1, wantBlogs: []int64{4}},
		{name: "limit cuts rows, not the count", r: uptime.BucketRange{Min: 0, Max: 99}, limit: 3, wantCount: 4, wantBlogs: []int64{1, 2, 3}},
		{name: "empty range", r: uptime.BucketRange{Min: 8, Max: 99}, limit: 10, wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := sqlstore.DriftCount(t.Context(), db, tt.r)
			if err != nil || n != tt.wantCount {
				t.Errorf("DriftCount = %d, %v; want %d", n, err, tt.wantCount)
			}
			rows, err := sqlstore.DriftRows(t.Context(), db, tt.r, tt.limit)
			if err != nil {
				t.Fatalf("DriftRows: %v", err)
			}
			var blogs []int64
			for _, r := range rows {
				blogs = append(blogs, r.BlogID)
			}
			if !slices.Equal(blogs, tt.wantBlogs) {
				t.Errorf("blogs = %v, want %v", blogs, tt.wantBlogs)
			}
		})
	}
}

func TestDriftSummary(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seedDrift(t, db, 0, 0, []driftSite{
		{blog: 30, bucket: 2, status: 1}, {blog: 31, bucket: 2, status: 1}, {blog: 32, bucket: 2, status: 1}, // 3 × missing Down
		{blog: 20, bucket: 1, status: 0}, {blog: 21, bucket: 1, status: 0}, // 2 × stale, no event
		{blog: 22, bucket: 1, status: 0}, // stale-looking, but an open 'Unknown' event: its own group
		{blog: 10, bucket: 0, status: 1}, // missing Seems Down
		{blog: 40, bucket: 2, status: 1}, // open Down and Seems Down: same key as 30-32, raises OpenEvents
		{blog: 50, bucket: 2, status: 1}, // agrees
	}, []driftEvent{
		{id: 1, blog: 30, state: "Down"}, {id: 2, blog: 31, state: "Down"}, {id: 3, blog: 32, state: "Down"},
		{id: 4, blog: 22, state: "Unknown"},
		{id: 5, blog: 10, state: "Seems Down"},
		{id: 6, blog: 40, state: "Down", disc: "a"}, {id: 7, blog: 40, state: "Seems Down", disc: "b"},
	})
	got, err := sqlstore.DriftSummary(t.Context(), db, uptime.BucketRange{Min: 0, Max: 9})
	if err != nil {
		t.Fatalf("DriftSummary: %v", err)
	}
	want := []sqlstore.DriftGroup{
		{Bucket: 2, SiteStatus: 1, Expected: 2, EventState: "Down", Count: 4, OpenEvents: 2, SampleBlog: 30,
			Cause: sqlstore.DriftMultipleOpenHTTPEvents},
		{Bucket: 1, SiteStatus: 0, Expected: 1, Count: 2, SampleBlog: 20, Cause: sqlstore.DriftStaleLegacyDownProjection},
		{Bucket: 0, SiteStatus: 1, Expected: 0, EventState: "Seems Down", Count: 1, OpenEvents: 1, SampleBlog: 10,
			Cause: sqlstore.DriftMissingSeemsDownProjection},
		{Bucket: 1, SiteStatus: 0, Expected: 1, EventState: "Unknown", Count: 1, OpenEvents: 1, SampleBlog: 22,
			Cause: sqlstore.DriftUnexpectedOpenEventProjection},
	}
	if !slices.Equal(got, want) {
		t.Errorf("DriftSummary =\n%+v\nwant\n%+v", got, want)
	}
	sum := 0
	for _, g := range got {
		sum += g.Count
	}
	if n, err := sqlstore.DriftCount(t.Context(), db, uptime.BucketRange{Min: 0, Max: 9}); err != nil || n != sum {
		t.Errorf("DriftCount = %d, %v; want the summary's total %d", n, err, sum)
	}
}

func TestDriftRejectsBadInput(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	tests := []struct {
		name  string
		r     uptime.BucketRange
		limit int
		want  string
	}{
		{name: "negative min", r: uptime.BucketRange{Min: -1, Max: 3}, limit: 1, want: "invalid bucket range -1-3"},
		{name: "inverted range", r: uptime.BucketRange{Min: 4, Max: 3}, limit: 1, want: "invalid bucket range 4-3"},
		{name: "zero limit", r: uptime.BucketRange{Min: 0, Max: 3}, limit: 0, want: "limit 0 must be > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := sqlstore.DriftRows(t.Context(), db, tt.r, tt.limit); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DriftRows error = %v, want %q", err, tt.want)
			}
			if tt.limit == 0 {
				return
			}
			if _, err := sqlstore.DriftCount(t.Context(), db, tt.r); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DriftCount error = %v, want %q", err, tt.want)
			}
			if _, err := sqlstore.DriftSummary(t.Context(), db, tt.r); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DriftSummary error = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := sqlstore.NewDriftReader(nil); err == nil {
		t.Error("NewDriftReader(nil) succeeded")
	}
}

func TestClassifyDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		status, expected uptime.LegacyStatus
		state            string
		open             int
		want             sqlstore.DriftCause
	}{
		{"status outside the v1 shape", 9, 1, "", 0, sqlstore.DriftUnexpectedProjectionValue},
		{"status outside the shape wins over duplicates", 3, 2, "Down", 2, sqlstore.DriftUnexpectedProjectionValue},
		{"expected outside the v1 shape", 1, 4, "Down", 1, sqlstore.DriftUnexpectedProjectionValue},
		{"duplicate open events", 1, 2, "Down", 2, sqlstore.DriftMultipleOpenHTTPEvents},
		{"duplicate open events win over a stale row", 0, 1, "Unknown", 2, sqlstore.DriftMultipleOpenHTTPEvents},
		{"seems down row without an event", 0, 1, "", 0, sqlstore.DriftStaleLegacyDownProjection},
		{"confirmed down row without an event", 2, 1, "", 0, sqlstore.DriftStaleLegacyDownProjection},
		{"running with an open Down", 1, 2, "Down", 1, sqlstore.DriftMissingConfirmedDownProjection},
		{"running with an open Seems Down", 1, 0, "Seems Down", 1, sqlstore.DriftMissingSeemsDownProjection},
		{"Down not promoted", 0, 2, "Down", 1, sqlstore.DriftMissingConfirmedPromotion},
		{"confirmed down while only Seems Down", 2, 0, "Seems Down", 1, sqlstore.DriftStaleConfirmedDownProjection},
		{"down row with an open event of another state", 0, 1, "Unknown", 1, sqlstore.DriftUnexpectedOpenEventProjection},
		{"down row with an open event of empty state", 2, 1, "", 1, sqlstore.DriftUnexpectedProjectionValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sqlstore.ClassifyDrift(tt.status, tt.expected, tt.state, tt.open); got != tt.want {
				t.Errorf("ClassifyDrift(%d, %d, %q, %d) = %s, want %s", tt.status, tt.expected, tt.state, tt.open, got, tt.want)
			}
		})
	}
	if got := sqlstore.DriftCauses(); len(got) != 8 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 8 {
		t.Errorf("DriftCauses = %v, want eight distinct causes", got)
	}
}
