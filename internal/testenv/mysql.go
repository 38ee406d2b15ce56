package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
)

// MySQL test server settings.
const (
	// MySQLDSNEnv names the environment variable holding the DSN of the
	// server tests create their databases on (no database name needed).
	MySQLDSNEnv = "JETMON_TEST_DSN"
	// DefaultMySQLDSN is used when MySQLDSNEnv is unset: the MariaDB that
	// `make db` provides or finds.
	DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/"

	testDBPrefix   = "jetmon_test_"
	dialTimeout    = 3 * time.Second  // a missing server fails fast
	staleAfter     = time.Hour        // databases left by killed test runs
	cleanupTimeout = 30 * time.Second // dropping a database at cleanup
)

// NewDB returns a pool on a fresh database with the full schema applied,
// created on the server at $JETMON_TEST_DSN for this test alone. The pool
// is closed and the database dropped when the test ends.
func NewDB(t testing.TB) *sql.DB {
	t.Helper()
	db, _ := NewDatabase(t)
	return db
}

// NewDatabase is NewDB that also returns the database's DSN, for code under
// test that opens its own pool (pass it to sqlstore.Open).
func NewDatabase(t testing.TB) (db *sql.DB, dsn string) {
	t.Helper()
	dsn = NewEmptyDatabase(t)
	if _, err := sqlstore.Migrate(t.Context(), dsn, nil); err != nil {
		t.Fatalf("testenv: migrate test database: %v", err)
	}
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{})
	if err != nil {
		t.Fatalf("testenv: open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() }) // runs before the drop registered earlier
	return db, dsn
}

// NewEmptyDatabase creates a fresh database without any table (for migration
// tests) and returns its DSN. It is dropped when the test ends. If no server
// answers at $JETMON_TEST_DSN the test fails with a single line saying how to
// get one; it never skips.
func NewEmptyDatabase(t testing.TB) (dsn string) {
	t.Helper()
	server := serverConfig(t)
	admin, err := sqlstore.Open(t.Context(), server.FormatDSN(), sqlstore.PoolOpts{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("testenv: no MySQL at %s: run 'make db' (starts a project-local MariaDB) or set %s (%v)",
			redacted(server), MySQLDSNEnv, err)
	}
	dropStale(t, admin)
	name := newDatabaseName(t)
	_, err = admin.ExecContext(t.Context(), "CREATE DATABASE `"+name+
		"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	if err != nil {
		_ = admin.Close()
		t.Fatalf("testenv: create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testenv: drop test database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	cfg := server.Clone()
	cfg.DBName = name
	return cfg.FormatDSN()
}

// serverConfig parses $JETMON_TEST_DSN (or the default) without a database
// and with a short dial timeout unless the DSN sets one.
func serverConfig(t testing.TB) *mysql.Config {
	t.Helper()
	dsn := os.Getenv(MySQLDSNEnv)
	if dsn == "" {
		dsn = DefaultMySQLDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("testenv: %s: %v", MySQLDSNEnv, err)
	}
	cfg.DBName = ""
	if cfg.Timeout == 0 {
		cfg.Timeout = dialTimeout
	}
	return cfg
}

// newDatabaseName returns jetmon_test_<unix seconds>_<random hex>; the time
// lets dropStale recognise databases left behind by killed test runs.
func newDatabaseName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testenv: random database name: %v", err)
	}
	return testDBPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + hex.EncodeToString(b)
}

// dropStale drops test databases created more than staleAfter ago: test runs
// that were killed never ran their cleanups.
func dropStale(t testing.TB, admin *sql.DB) {
	t.Helper()
	names, err := testDatabases(t.Context(), admin)
	if err != nil {
		t.Fatalf("testenv: list test databases: %v", err)
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, testDBPrefix), "_")
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < staleAfter {
			continue
		}
		// Another test process may drop it first: IF EXISTS, errors ignored.
		_, _ = admin.ExecContext(t.Context(), "DROP DATABASE IF EXISTS `"+name+"`")
	}
}

// testDatabases lists the databases named like test databases.
func testDatabases(ctx context.Context, admin *sql.DB) ([]string, error) {
	rows, err := admin.QueryContext(ctx, `SHOW DATABASES LIKE 'jetmon\_test\_%'`)
	if err != nil {
		return nil, fmt.Errorf("show databases: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("scan database name: %w", err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("show databases: %w", err)
	}
	return names, nil
}

// redacted formats cfg for messages, with any password masked.
func redacted(cfg *mysql.Config) string {
	c := cfg.Clone()
	if c.Passwd != "" {
		c.Passwd = "xxxxx"
	}
	c.Timeout = 0
	return c.FormatDSN()
}
