package testenv_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// adminDB opens a pool on the test server without a database.
func adminDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := os.Getenv(testenv.MySQLDSNEnv)
	if dsn == "" {
		dsn = testenv.DefaultMySQLDSN
	}
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open test server: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func databaseExists(t *testing.T, admin *sql.DB, name string) bool {
	t.Helper()
	var n int
	err := admin.QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
	if err != nil {
		t.Fatalf("look up database %s: %v", name, err)
	}
	return n == 1
}

func TestNewDatabase(t *testing.T) {
	t.Parallel()
	admin := adminDB(t)
	var name string
	t.Run("migrated", func(t *testing.T) {
		db, dsn := testenv.NewDatabase(t)
		if err := db.QueryRowContext(t.Context(), "SELECT DATABASE()").Scan(&name); err != nil {
			t.Fatalf("database name: %v", err)
		}
		var version uint
		var dirty bool
		err := db.QueryRowContext(t.Context(),
			"SELECT version, dirty FROM "+sqlstore.MigrationsTable).Scan(&version, &dirty)
		if err != nil || version == 0 || dirty {
			t.Fatalf("schema version = %d dirty %v (%v), want a clean applied version", version, dirty, err)
		}
		if _, err := db.ExecContext(t.Context(), "SELECT 1 FROM jetmon_events LIMIT 0"); err != nil {
			t.Errorf("jetmon_events: %v", err)
		}
		// The DSN reaches the same database.
		res, err := sqlstore.Migrate(t.Context(), dsn, nil)
		if err != nil || res.From != version || res.To != version {
			t.Errorf("migrate via returned dsn = %+v, %v; want a no-op at %d", res, err, version)
		}
	})
	if name == "" {
		t.Fatal("no database name recorded")
	}
	if databaseExists(t, admin, name) {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestNewEmptyDatabaseDropsStale(t *testing.T) {
	t.Parallel()
	admin := adminDB(t)
	tests := []struct {
		name     string
		created  time.Time
		wantGone bool
	}{
		{name: "older than an hour is dropped", created: time.Now().Add(-2 * time.Hour), wantGone: true},
		{name: "recent is kept", created: time.Now().Add(-time.Minute), wantGone: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := fmt.Sprintf("jetmon_test_%d_feed%04d", tt.created.Unix(), i)
			if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE `"+db+"`"); err != nil {
				t.Fatalf("create %s: %v", db, err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+db+"`")
			})
			testenv.NewEmptyDatabase(t)
			if gone := !databaseExists(t, admin, db); gone != tt.wantGone {
				t.Errorf("%s gone = %v, want %v", db, gone, tt.wantGone)
			}
		})
	}
}
