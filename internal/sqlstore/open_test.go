package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestOpenSessionSettings(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	db := open(t, dsn)
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{name: "session time zone is UTC", query: "SELECT @@session.time_zone", want: "+00:00"},
		{name: "NOW is UTC", query: "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW()) = 0", want: "1"},
		{name: "MySQL 8 sql_mode", query: "SELECT FIND_IN_SET('ONLY_FULL_GROUP_BY', @@session.sql_mode) > 0 " +
			"AND FIND_IN_SET('STRICT_TRANS_TABLES', @@session.sql_mode) > 0", want: "1"},
		{name: "connected to the test database", query: "SELECT DATABASE() LIKE 'jetmon\\_test\\_%'", want: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got string
			if err := db.QueryRowContext(t.Context(), tt.query).Scan(&got); err != nil {
				t.Fatalf("%s: %v", tt.query, err)
			}
			if got != tt.want {
				t.Errorf("%s = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestOpenKeepsDSNSQLMode(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	cfg.Params = map[string]string{"sql_mode": "'ANSI_QUOTES'"}
	db := open(t, cfg.FormatDSN())
	var mode string
	if err := db.QueryRowContext(t.Context(), "SELECT @@session.sql_mode").Scan(&mode); err != nil {
		t.Fatalf("sql_mode: %v", err)
	}
	if mode != "ANSI_QUOTES" {
		t.Errorf("sql_mode = %q, want the DSN's ANSI_QUOTES", mode)
	}
}

func TestOpenTimesAreUTC(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	plus5 := time.FixedZone("+05:00", 5*3600)
	tests := []struct {
		name  string
		write any
		want  time.Time
	}{
		{name: "UTC time", write: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC),
			want: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)},
		{name: "time in another zone is stored as its UTC instant", write: time.Date(2026, 1, 2, 8, 4, 5, 0, plus5),
			want: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{name: "string literal is read as UTC", write: "2026-07-01 12:00:00.5",
			want: time.Date(2026, 7, 1, 12, 0, 0, 5e8, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := db.ExecContext(t.Context(),
				"INSERT INTO jetmon_audit_log (blog_id, event_type, created_at) VALUES (?, 'test', ?)", i+1, tt.write)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			var got time.Time
			err = db.QueryRowContext(t.Context(), "SELECT created_at FROM jetmon_audit_log WHERE blog_id = ?", i+1).Scan(&got)
			if err != nil {
				t.Fatalf("select: %v", err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("read %v (%v), want %v in UTC", got, got.Location(), tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dsn     string
		opts    sqlstore.PoolOpts
		wantErr string
	}{
		{name: "malformed dsn", dsn: "root@tcp(127.0.0.1:3306", wantErr: "parse mysql dsn"},
		{name: "negative pool size", dsn: serverDSN(), opts: sqlstore.PoolOpts{MaxOpenConns: -1}, wantErr: "negative"},
		{name: "nothing listening", dsn: "root@tcp(127.0.0.1:1)/?timeout=1s", wantErr: "ping mysql tcp(127.0.0.1:1)/"},
		{name: "unknown database", dsn: withDB(t, "jetmon_no_such_db"), wantErr: "Unknown database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := sqlstore.Open(t.Context(), tt.dsn, tt.opts)
			if err == nil {
				_ = db.Close()
				t.Fatal("open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEnsureDatabase(t *testing.T) {
	t.Parallel()
	now := time.Now()
	// Named like testenv's databases, so testenv drops it if this test is killed.
	name := fmt.Sprintf("jetmon_test_%d_ensure%d", now.Unix(), now.Nanosecond())
	// Register the drop before creating, so a failed test still cleans up.
	admin := open(t, serverDSN())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	})
	for i := range 2 { // the second call finds it and changes nothing
		if err := sqlstore.EnsureDatabase(t.Context(), withDB(t, "jetmon_no_such_db"), name); err != nil {
			t.Fatalf("ensure database (call %d): %v", i+1, err)
		}
	}
	var charset string
	err := admin.QueryRowContext(t.Context(),
		"SELECT default_character_set_name FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&charset)
	if err != nil || charset != "utf8mb4" {
		t.Fatalf("created database charset = %q, %v; want utf8mb4", charset, err)
	}

	for _, bad := range []string{"", "a-b", "x`; DROP DATABASE y", strings.Repeat("a", 65)} {
		if err := sqlstore.EnsureDatabase(t.Context(), serverDSN(), bad); err == nil {
			t.Errorf("EnsureDatabase(%q) succeeded, want an error", bad)
		}
	}
}

// serverDSN is the test server's DSN without a database.
func serverDSN() string {
	if dsn := os.Getenv(testenv.MySQLDSNEnv); dsn != "" {
		return dsn
	}
	return testenv.DefaultMySQLDSN
}

// withDB returns the test server's DSN naming database name.
func withDB(t *testing.T, name string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(serverDSN())
	if err != nil {
		t.Fatalf("parse %s: %v", testenv.MySQLDSNEnv, err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}
