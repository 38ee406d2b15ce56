package sqlstore_test

import (
	"database/sql"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// dbNow is the server's current time, the clock updated_at is set by.
func dbNow(t *testing.T, db *sql.DB) time.Time {
	t.Helper()
	var now time.Time
	if err := db.QueryRowContext(t.Context(), "SELECT UTC_TIMESTAMP(3)").Scan(&now); err != nil {
		t.Fatalf("server time: %v", err)
	}
	return now
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// change is what a test expects ChangedSince to say about one blog.
type change struct {
	active bool
	bucket int
	url    string
}

func changes(t *testing.T, rows []sqlstore.SiteRow) map[int64]change {
	t.Helper()
	out := make(map[int64]change, len(rows))
	for i, r := range rows {
		if _, dup := out[r.Site.BlogID]; dup {
			t.Errorf("blog %d returned twice", r.Site.BlogID)
		}
		if i > 0 && r.ChangedAt.Before(rows[i-1].ChangedAt) {
			t.Errorf("entry %d (blog %d) changed at %v, before entry %d's %v", i, r.Site.BlogID, r.ChangedAt,
				i-1, rows[i-1].ChangedAt)
		}
		out[r.Site.BlogID] = change{active: r.Active, bucket: r.Site.Bucket, url: r.Site.Spec.URL}
	}
	return out
}

func TestChangedSince(t *testing.T) {
	t.Parallel()
	db, in := newIngest(t, sqlstore.IngestOpts{})
	for blogID := range int64(13) {
		if blogID != 7 {
			insertSite(t, db, blogID, 1, nil)
		}
	}
	since := dbNow(t, db)
	exec(t, db, "UPDATE jetpack_monitor_sites SET monitor_url = 'https://new.example' WHERE blog_id = 1")
	exec(t, db, "UPDATE jetpack_monitor_sites SET monitor_active = 0 WHERE blog_id = 2")
	exec(t, db, "UPDATE jetpack_monitor_sites SET bucket_no = 7 WHERE blog_id = 3")
	err := in.Commit(t.Context(), testEpoch, sqlstore.IngestBatch{Consumer: "c", FromSeq: 0, ToSeq: 1,
		LastChecked: map[int64]time.Time{4: time.Now(), 5: time.Now()}, SSLExpiry: map[int64]time.Time{4: time.Now()}})
	if err != nil {
		t.Fatalf("bookkeeping commit: %v", err)
	}
	exec(t, db, "UPDATE jetpack_monitor_sites SET site_status = 0, updated_at = updated_at WHERE blog_id = 6")
	insertSite(t, db, 7, 2, map[string]any{"updated_at": since.Add(time.Millisecond)})
	// One statement: five rows share one updated_at, so ties straddle pages.
	exec(t, db, "UPDATE jetpack_monitor_sites SET check_interval = 1 WHERE blog_id BETWEEN 8 AND 12")

	want := map[int64]change{
		1: {active: true, bucket: 1, url: "https://new.example"},
		2: {active: false, bucket: 1, url: "https://2.example"},
		3: {active: true, bucket: 7, url: "https://3.example"},
		7: {active: true, bucket: 2, url: "https://7.example"},
	}
	for blogID := int64(8); blogID <= 12; blogID++ {
		want[blogID] = change{active: true, bucket: 1, url: defaultSite(blogID, 1).Spec.URL}
	}
	for _, pageSize := range []int{1, 2, 3, 0} {
		sites := newSites(t, db, sqlstore.SitesOpts{PageSize: pageSize})
		rows, err := sites.ChangedSince(t.Context(), since)
		if err != nil {
			t.Fatalf("page size %d: ChangedSince: %v", pageSize, err)
		}
		if got := changes(t, rows); !maps.Equal(got, want) {
			t.Errorf("page size %d: ChangedSince =\n%v\nwant\n%v", pageSize, got, want)
		}
		for _, r := range rows {
			if r.ChangedAt.Before(since) || !r.ChangedAt.Equal(r.Site.UpdatedAt) {
				t.Errorf("blog %d: ChangedAt %v, UpdatedAt %v, since %v", r.Site.BlogID, r.ChangedAt, r.Site.UpdatedAt, since)
			}
		}
	}

	all, err := newSites(t, db, sqlstore.SitesOpts{}).ChangedSince(t.Context(), time.Time{})
	if err != nil || len(all) != 13 {
		t.Errorf("ChangedSince(zero time) = %d rows, %v, want all 13", len(all), err)
	}
}

func TestSitesSeveralRowsPerBlog(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	sites := newSites(t, db, sqlstore.SitesOpts{PageSize: 1})
	const blog = 50
	older := insertSite(t, db, blog, 1, map[string]any{"monitor_url": "https://older.example"})
	newer := insertSite(t, db, blog, 2, map[string]any{"monitor_url": "https://newer.example"})
	insertSite(t, db, blog, 3, map[string]any{"monitor_url": "https://inactive.example", "monitor_active": 0})
	activeURLs := func(r uptime.BucketRange) []string {
		got, err := sites.ActiveSites(t.Context(), r)
		if err != nil {
			t.Fatalf("ActiveSites: %v", err)
		}
		var urls []string
		for _, s := range got {
			urls = append(urls, s.Spec.URL)
		}
		return urls
	}
	changedSince := func(since time.Time) map[int64]change {
		rows, err := sites.ChangedSince(t.Context(), since)
		if err != nil {
			t.Fatalf("ChangedSince: %v", err)
		}
		return changes(t, rows)
	}

	if got := activeURLs(uptime.BucketRange{Min: 0, Max: 9}); !slices.Equal(got, []string{"https://newer.example"}) {
		t.Errorf("ActiveSites = %v, want only the newest active row", got)
	}
	if got := activeURLs(uptime.BucketRange{Min: 1, Max: 1}); len(got) != 0 {
		t.Errorf("ActiveSites(bucket of the shadowed row) = %v, want none", got)
	}

	since := dbNow(t, db)
	exec(t, db, "UPDATE jetpack_monitor_sites SET check_keyword = 'x' WHERE jetpack_monitor_site_id = ?", older)
	want := map[int64]change{blog: {active: true, bucket: 2, url: "https://newer.example"}}
	if got := changedSince(since); !maps.Equal(got, want) {
		t.Errorf("after changing the shadowed row: %v, want the effective row %v", got, want)
	}

	since = dbNow(t, db)
	exec(t, db, "UPDATE jetpack_monitor_sites SET monitor_active = 0 WHERE jetpack_monitor_site_id = ?", newer)
	want = map[int64]change{blog: {active: true, bucket: 1, url: "https://older.example"}}
	if got := changedSince(since); !maps.Equal(got, want) {
		t.Errorf("after deactivating the effective row: %v, want the older active row %v", got, want)
	}

	since = dbNow(t, db)
	exec(t, db, "UPDATE jetpack_monitor_sites SET monitor_active = 0 WHERE jetpack_monitor_site_id = ?", older)
	want = map[int64]change{blog: {active: false, bucket: 1, url: "https://older.example"}}
	if got := changedSince(since); !maps.Equal(got, want) {
		t.Errorf("after deactivating every row: %v, want inactive %v", got, want)
	}
	if got := activeURLs(uptime.BucketRange{Min: 0, Max: 9}); len(got) != 0 {
		t.Errorf("ActiveSites with no active row = %v, want none", got)
	}
}

// handlerReads is the session's count of rows and index entries read one
// after another (Handler_read_next and Handler_read_rnd_next): a range read
// of an empty range adds none, a scan one per row.
func handlerReads(t *testing.T, conn *sql.Conn) int64 {
	t.Helper()
	rows, err := conn.QueryContext(t.Context(), "SHOW SESSION STATUS LIKE 'Handler_read%'")
	if err != nil {
		t.Fatalf("session status: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var total int64
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatalf("session status: %v", err)
		}
		if name == "Handler_read_next" || name == "Handler_read_rnd_next" {
			total += n
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("session status: %v", err)
	}
	return total
}

func TestChangedSinceReadsOnlyTheRange(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	// One connection, so the session counters are the queries'.
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	const rows = 3000
	seedSites(t, db, rows)
	sites := newSites(t, db, sqlstore.SitesOpts{})
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatalf("conn: %v", err)
	}
	before := handlerReads(t, conn)
	if err := conn.Close(); err != nil {
		t.Fatalf("release conn: %v", err)
	}
	// Nanoseconds: the driver would send nine fractional digits.
	since := dbNow(t, db).Add(time.Hour + 123456789*time.Nanosecond)
	changed, err := sites.ChangedSince(t.Context(), since)
	if err != nil || len(changed) != 0 {
		t.Fatalf("ChangedSince(an hour ahead) = %d rows, %v, want none", len(changed), err)
	}
	conn, err = db.Conn(t.Context())
	if err != nil {
		t.Fatalf("conn: %v", err)
	}
	defer func() { _ = conn.Close() }()
	if read := handlerReads(t, conn) - before; read > rows/10 {
		t.Errorf("ChangedSince with nothing changed read %d index entries of %d rows: not a range read", read, rows)
	}
}
