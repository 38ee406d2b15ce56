package driftreport_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/driftreport"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// site is a jetpack_monitor_sites row; event a jetmon_events row (open
// unless closed; disc separates several open events of one site).
type (
	site struct {
		blog     int64
		bucket   int
		status   int
		inactive bool
	}
	event struct {
		id, blog         int64
		checkType, state string
		closed           bool
		disc             string
	}
)

func seed(t *testing.T, db *sql.DB, sites []site, events []event) {
	t.Helper()
	for _, s := range sites {
		active := 1
		if s.inactive {
			active = 0
		}
		exec(t, db, `INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active, site_status)
			VALUES (?, ?, 'https://example.com/', ?, ?)`, s.blog, s.bucket, active, s.status)
	}
	for _, e := range events {
		checkType := e.checkType
		if checkType == "" {
			checkType = uptime.CheckTypeHTTP
		}
		var ended, disc any
		if e.closed {
			ended = "2026-04-30 10:00:00"
		}
		if e.disc != "" {
			disc = e.disc
		}
		exec(t, db, `INSERT INTO jetmon_events (id, blog_id, check_type, discriminator, severity, state, started_at, ended_at)
			VALUES (?, ?, ?, ?, 4, ?, '2026-04-30 09:00:00', ?)`, e.id, e.blog, checkType, disc, e.state, ended)
	}
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// seedEveryCause writes drift of every cause class into buckets 1-6, sites
// that agree with their events, and rows the report must ignore.
func seedEveryCause(t *testing.T, db *sql.DB) {
	t.Helper()
	seed(t, db, []site{
		{blog: 101, bucket: 1, status: 7}, // unexpected_projection_value
		{blog: 102, bucket: 1, status: 1}, // multiple_open_http_events
		{blog: 103, bucket: 2, status: 2}, // stale_legacy_down_projection (its Down is closed)
		{blog: 104, bucket: 2, status: 0}, // stale_legacy_down_projection
		{blog: 105, bucket: 3, status: 1}, // missing_confirmed_down_projection (+ an open tls_expiry)
		{blog: 106, bucket: 3, status: 1}, // missing_confirmed_down_projection
		{blog: 107, bucket: 3, status: 1}, // missing_seems_down_projection
		{blog: 108, bucket: 4, status: 0}, // missing_confirmed_promotion
		{blog: 109, bucket: 4, status: 2}, // stale_confirmed_down_projection
		{blog: 110, bucket: 5, status: 0}, // unexpected_open_event_projection, terminal escapes in the state
		{blog: 116, bucket: 6, status: 2}, // unexpected_open_event_projection, a bidi override in the state
		{blog: 111, bucket: 5, status: 1}, // agrees: running
		{blog: 112, bucket: 5, status: 2}, // agrees: open Down
		{blog: 115, bucket: 6, status: 0}, // agrees: open Seems Down
		{blog: 113, bucket: 6, status: 0, inactive: true},
		{blog: 114, bucket: 50, status: 0}, // outside the range
	}, []event{
		{id: 201, blog: 102, state: "Down", disc: "a"},
		{id: 202, blog: 102, state: "Seems Down", disc: "b"},
		{id: 203, blog: 103, state: "Down", closed: true},
		{id: 205, blog: 105, state: "Down"},
		{id: 206, blog: 105, checkType: uptime.CheckTypeTLSExpiry, state: "Degraded"},
		{id: 207, blog: 106, state: "Down"},
		{id: 208, blog: 107, state: "Seems Down"},
		{id: 209, blog: 108, state: "Down"},
		{id: 210, blog: 109, state: "Seems Down"},
		{id: 211, blog: 110, state: "Down\x1b[31m\nStill\tDown\r"},
		{id: 212, blog: 112, state: "Down"},
		{id: 213, blog: 115, state: "Seems Down"},
		{id: 214, blog: 116, state: "Unknown\u202e\x7f"},
	})
}

// render builds the report and prints it as the command would, stdout and
// stderr interleaved as on a terminal.
func render(t *testing.T, src driftreport.Source, r uptime.BucketRange, limit int, f driftreport.Format) (string, driftreport.Report) {
	t.Helper()
	rep, err := driftreport.Build(t.Context(), src, r, limit)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	e := driftreport.Envelope{OK: true, Command: driftreport.Command, GeneratedAt: time.Date(2026, 4, 30, 19, 18, 0, 0, time.UTC), Lines: rep.Lines}
	if err := rep.Failure(); err != nil {
		e.OK, e.Failures = false, []string{err.Error()}
	}
	var out bytes.Buffer
	if err := driftreport.Emit(&out, &out, f, e); err != nil {
		t.Fatalf("Emit: %v", err)
	}
	return out.String(), rep
}

func reader(t *testing.T, db *sql.DB) *sqlstore.DriftReader {
	t.Helper()
	r, err := sqlstore.NewDriftReader(db)
	if err != nil {
		t.Fatalf("NewDriftReader: %v", err)
	}
	return r
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", path, err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update if intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestSeed004 reproduces the example output of seed 004 byte for byte from
// the database state it describes. testdata/seed004.txt is the seed's text
// verbatim: never regenerate it.
func TestSeed004(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seed(t, db, []site{{blog: 42, bucket: 7, status: 1}, {blog: 44, bucket: 7, status: 1}, {blog: 43, bucket: 8, status: 0}},
		[]event{{id: 123, blog: 42, state: "Down"}, {id: 124, blog: 44, state: "Down"}})
	got, _ := render(t, reader(t, db), uptime.BucketRange{Min: 0, Max: 99}, 1, driftreport.FormatText)
	want, err := os.ReadFile(filepath.Join("testdata", "seed004.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from seed 004\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestEveryCauseGolden(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seedEveryCause(t, db)
	r := uptime.BucketRange{Min: 0, Max: 9}
	tests := []struct {
		name   string
		limit  int
		format driftreport.Format
	}{
		{name: "every_cause.txt.golden", limit: driftreport.DefaultLimit, format: driftreport.FormatText},
		{name: "every_cause_limit5.txt.golden", limit: 5, format: driftreport.FormatText},
		{name: "every_cause.json.golden", limit: driftreport.DefaultLimit, format: driftreport.FormatJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, rep := render(t, reader(t, db), r, tt.limit, tt.format)
			golden(t, tt.name, got)
			if rep.Drift != 11 {
				t.Errorf("Drift = %d, want 11", rep.Drift)
			}
			for _, c := range sqlstore.DriftCauses() {
				if !strings.Contains(got, "projection_drift_cause="+string(c)+" ") {
					t.Errorf("no guidance line for cause %s", c)
				}
			}
			if strings.ContainsAny(got, "\x1b\r\t\x7f\u202e") {
				t.Errorf("a control character reached the output:\n%q", got)
			}
			if !strings.Contains(got, "Down?[31m?Still?Down?") || !strings.Contains(got, "Unknown??") {
				t.Errorf("sanitised event states missing:\n%s", got)
			}
		})
	}
}

func TestCleanDatabase(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seed(t, db, []site{{blog: 1, bucket: 0, status: 1}, {blog: 2, bucket: 0, status: 2}, {blog: 3, bucket: 1, status: 0, inactive: true}},
		[]event{{id: 1, blog: 2, state: "Down"}})
	got, rep := render(t, reader(t, db), uptime.BucketRange{Min: 0, Max: 999}, driftreport.DefaultLimit, driftreport.FormatText)
	want := "INFO projection_drift_range=0-999\nINFO legacy_projection_drift=0\nPASS legacy_projection_drift=0\n"
	if got != want || rep.Failure() != nil {
		t.Errorf("output = %q, failure %v; want %q and none", got, rep.Failure(), want)
	}
}

func TestHiddenSummaryGroupsStillCount(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	var (
		sites  []site
		events []event
	)
	for i := range driftreport.SummaryTop {
		sites = append(sites, site{blog: int64(300 + i), bucket: i, status: 1})
		events = append(events, event{id: int64(400 + i), blog: int64(300 + i), state: "Down"})
	}
	sites = append(sites, site{blog: 999, bucket: 99, status: 0}) // the 21st group
	seed(t, db, sites, events)
	got, _ := render(t, reader(t, db), uptime.BucketRange{Min: 0, Max: 99}, 1, driftreport.FormatText)
	golden(t, "hidden_groups.txt.golden", got)
	for _, want := range []string{
		"INFO projection_drift_summary_groups_truncated=1\n",
		"INFO projection_drift_summary_rows_hidden=1\n",
		"WARN projection_drift_cause=missing_confirmed_down_projection count=20 ",
		"WARN projection_drift_cause=stale_legacy_down_projection count=1 ",
		"INFO projection_drift_rows_truncated=20\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "999") {
		t.Errorf("the hidden group's sample blog was printed:\n%s", got)
	}
	if strings.Contains(got, "count_changed") {
		t.Errorf("hidden groups reported as a changed count:\n%s", got)
	}
}

// hooked runs a change to the database before one of the reader's queries,
// to make drift change while the report runs.
type hooked struct {
	*sqlstore.DriftReader
	beforeSummary, beforeRows func()
}

func (h hooked) Summary(ctx context.Context, r uptime.BucketRange) ([]sqlstore.DriftGroup, error) {
	if h.beforeSummary != nil {
		h.beforeSummary()
	}
	return h.DriftReader.Summary(ctx, r)
}

func (h hooked) Rows(ctx context.Context, r uptime.BucketRange, limit int) ([]sqlstore.DriftRow, error) {
	if h.beforeRows != nil {
		h.beforeRows()
	}
	return h.DriftReader.Rows(ctx, r, limit)
}

func TestDriftChangedWhileRunning(t *testing.T) {
	t.Parallel()
	const note = `note="drift changed while the report was running; rerun projection-drift before repair"`
	tests := []struct {
		name      string
		hook      func(h *hooked, fix func())
		want      []string
		wantNotIn []string
	}{
		{name: "fixed before the summary", hook: func(h *hooked, fix func()) { h.beforeSummary = fix },
			want: []string{"WARN projection_drift_count_changed=2 summarized=1 " + note, "WARN projection_drift_count_changed=2 recounted=1 " + note}},
		{name: "fixed before the rows", hook: func(h *hooked, fix func()) { h.beforeRows = fix },
			want:      []string{"WARN projection_drift_count_changed=2 recounted=1 " + note},
			wantNotIn: []string{"summarized="}},
		{name: "unchanged", hook: func(*hooked, func()) {}, wantNotIn: []string{"count_changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.NewDB(t)
			seed(t, db, []site{{blog: 1, bucket: 0, status: 0}, {blog: 2, bucket: 0, status: 2}}, nil)
			h := &hooked{DriftReader: reader(t, db)}
			tt.hook(h, func() { exec(t, db, "UPDATE jetpack_monitor_sites SET site_status = 1 WHERE blog_id = 2") })
			got, rep := render(t, h, uptime.BucketRange{Min: 0, Max: 0}, 10, driftreport.FormatText)
			for _, w := range tt.want {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNotIn {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
			if err := rep.Failure(); err == nil || err.Error() != "legacy projection drift=2 in range 0-0" {
				t.Errorf("Failure = %v, want the drift counted at the start", err)
			}
		})
	}
}

// checksums is CHECKSUM TABLE of every table the report reads.
func checksums(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "CHECKSUM TABLE jetpack_monitor_sites, jetmon_events, jetmon_event_transitions")
	if err != nil {
		t.Fatalf("checksum: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var out strings.Builder
	for rows.Next() {
		var name, sum string
		if err := rows.Scan(&name, &sum); err != nil {
			t.Fatalf("checksum: %v", err)
		}
		out.WriteString(name + "=" + sum + " ")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("checksum: %v", err)
	}
	return out.String()
}

func TestReportIsReadOnly(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seedEveryCause(t, db)
	before := checksums(t, db)
	render(t, reader(t, db), uptime.BucketRange{Min: 0, Max: 99}, 3, driftreport.FormatText)
	if after := checksums(t, db); after != before {
		t.Errorf("tables changed: %s -> %s", before, after)
	}
}

// failing fails one query of the reader.
type failing struct {
	*sqlstore.DriftReader
	err error
}

func (f failing) Summary(context.Context, uptime.BucketRange) ([]sqlstore.DriftGroup, error) {
	return nil, f.err
}

func TestReadErrorKeepsLinesSoFar(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	seed(t, db, []site{{blog: 1, bucket: 0, status: 0}}, nil)
	boom := errors.New("boom")
	rep, err := driftreport.Build(t.Context(), failing{reader(t, db), boom}, uptime.BucketRange{Min: 0, Max: 9}, 5)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "summarize legacy projection drift in range 0-9") {
		t.Errorf("Build error = %v, want the summary error with context", err)
	}
	if len(rep.Lines) != 4 || rep.Lines[3].Message == "" || rep.Drift != 1 {
		t.Errorf("lines = %+v, want the four lines before the summary", rep.Lines)
	}
	if _, err := driftreport.Build(t.Context(), reader(t, db), uptime.BucketRange{Min: 0, Max: 9}, 0); err == nil {
		t.Error("Build with limit 0 succeeded")
	}
}
