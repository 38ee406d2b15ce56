package jetmoncmd

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/driftreport"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// runJetmon runs the command tree with env as its whole environment.
func runJetmon(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := Root(cli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }, Version: "test"})
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// insertSite adds an active site row.
func insertSite(t *testing.T, db *sql.DB, blog int64, bucket, status int) {
	t.Helper()
	_, err := db.ExecContext(t.Context(), `INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, site_status)
		VALUES (?, ?, 'https://example.com/', ?)`, blog, bucket, status)
	if err != nil {
		t.Fatalf("insert site %d: %v", blog, err)
	}
}

func TestRolloutProjectionDrift(t *testing.T) {
	t.Parallel()
	clean, cleanDSN := testenv.NewDatabase(t)
	drifting, driftDSN := testenv.NewDatabase(t)
	insertSite(t, clean, 1, 5, 1)    // running, no event: agrees
	insertSite(t, drifting, 7, 5, 0) // seems down, no event: drift
	const fail = "FAIL legacy projection drift=1 in range 0-999\n"
	tests := []struct {
		name       string
		dsn        string
		env        map[string]string
		args       []string
		wantErr    string // "" ok, "reported" cli.ErrReported, else a substring of a plain error
		wantOut    []string
		wantStderr string
	}{
		{name: "clean database exits 0", dsn: cleanDSN, wantOut: []string{"PASS config parse\nPASS db connect\n" +
			"INFO projection_drift_range=0-999\nINFO legacy_projection_drift=0\nPASS legacy_projection_drift=0\n"}},
		{name: "drift exits 1 with FAIL on stderr", dsn: driftDSN, wantErr: "reported", wantStderr: fail,
			wantOut: []string{"PASS db connect\nINFO projection_drift_range=0-999\n", "\n## projection drift rows\n",
				"7            5        0/SITE_DOWN            1/SITE_RUNNING         -          0           stale_legacy_down_projection        -\n"}},
		{name: "explicit range without drift", dsn: driftDSN, args: []string{"--bucket-min", "6", "--bucket-max", "9"},
			wantOut: []string{"INFO projection_drift_range=6-9\n", "PASS legacy_projection_drift=0\n"}},
		{name: "default range is the rollout range", dsn: driftDSN, env: map[string]string{"JETMON_ROLLOUT_BUCKET_MIN": "5", "JETMON_ROLLOUT_BUCKET_MAX": "5"},
			wantErr: "reported", wantStderr: "FAIL legacy projection drift=1 in range 5-5\n", wantOut: []string{"INFO projection_drift_range=5-5\n"}},
		{name: "limit cuts the rows", dsn: driftDSN, args: []string{"--limit", "1"}, wantErr: "reported", wantStderr: fail,
			wantOut: []string{"INFO projection_drift_repair=manual_confirmation_required\n"}},
		{name: "one bound only", dsn: driftDSN, args: []string{"--bucket-min", "3"}, wantErr: "reported",
			wantOut: []string{"PASS config parse\n"}, wantStderr: "FAIL --bucket-min and --bucket-max must be set together\n"},
		{name: "bucket beyond BUCKET_TOTAL", dsn: driftDSN, args: []string{"--bucket-min", "0", "--bucket-max", "1000"}, wantErr: "reported",
			wantStderr: "FAIL --bucket-max 1000 must be < BUCKET_TOTAL 1000\n"},
		{name: "bad config", dsn: driftDSN, env: map[string]string{"JETMON_BUCKET_TOTAL": "zero"}, wantErr: "reported",
			wantStderr: "FAIL config parse: "},
		{name: "database unreachable", dsn: "root@tcp(127.0.0.1:1)/nope?timeout=200ms", wantErr: "reported",
			wantOut: []string{"PASS config parse\n"}, wantStderr: "FAIL db connect: "},
		{name: "zero limit is a usage error", dsn: driftDSN, args: []string{"--limit", "0"}, wantErr: "--limit 0: must be > 0"},
		{name: "unknown output is a usage error", dsn: driftDSN, args: []string{"-o", "yaml"}, wantErr: `--output "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DB_DSN": tt.dsn}
			maps.Copy(env, tt.env)
			out, errOut, err := runJetmon(t, env, append([]string{"rollout", "projection-drift"}, tt.args...)...)
			switch {
			case tt.wantErr == "" && err != nil, tt.wantErr == "reported" && !errors.Is(err, cli.ErrReported):
				t.Fatalf("err = %v, want %q; stdout:\n%s\nstderr:\n%s", err, tt.wantErr, out, errOut)
			case tt.wantErr != "" && tt.wantErr != "reported" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.HasPrefix(errOut, tt.wantStderr) || (tt.wantStderr == "" && errOut != "") {
				t.Errorf("stderr = %q, want it to start with %q", errOut, tt.wantStderr)
			}
		})
	}
}

func TestRolloutProjectionDriftJSON(t *testing.T) {
	t.Parallel()
	db, dsn := testenv.NewDatabase(t)
	insertSite(t, db, 7, 5, 2)
	out, errOut, err := runJetmon(t, map[string]string{"DB_DSN": dsn}, "rollout", "projection-drift", "--output", "json")
	if !errors.Is(err, cli.ErrReported) || errOut != "" {
		t.Fatalf("err = %v, stderr %q; want ErrReported and nothing on stderr", err, errOut)
	}
	var e driftreport.Envelope
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("stdout is not one JSON envelope: %v\n%s", err, out)
	}
	if e.OK || e.Command != "rollout projection-drift" || e.GeneratedAt.IsZero() ||
		len(e.Failures) != 1 || e.Failures[0] != "legacy projection drift=1 in range 0-999" {
		t.Errorf("envelope = %+v", e)
	}
	if len(e.Lines) < 3 || e.Lines[0] != (driftreport.Line{Level: driftreport.LevelPass, Message: "config parse"}) ||
		e.Lines[2] != (driftreport.Line{Level: driftreport.LevelInfo, Message: "projection_drift_range=0-999"}) {
		t.Errorf("lines = %+v", e.Lines)
	}
}
