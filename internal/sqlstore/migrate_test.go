package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/migrations"
)

// latest is the highest embedded migration version.
func latest(t *testing.T) uint {
	t.Helper()
	entries, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(entries) == 0 {
		t.Fatalf("embedded migrations: %v (%d files)", err, len(entries))
	}
	return uint(len(entries)) // contiguous from 1, pinned by the migrations tests
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func tableCount(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	err := db.QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n)
	if err != nil {
		t.Fatalf("count tables: %v", err)
	}
	return n
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Parallel()
	dsn := testenv.NewEmptyDatabase(t)
	want := latest(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	first, err := sqlstore.Migrate(t.Context(), dsn, logger)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if first != (sqlstore.MigrateResult{From: 0, To: want}) {
		t.Errorf("first migrate = %+v, want from 0 to %d", first, want)
	}
	if !strings.Contains(logs.String(), "jetmon_events") {
		t.Errorf("log lacks the applied migrations:\n%s", logs.String())
	}
	db := open(t, dsn)
	tables := tableCount(t, db)

	logs.Reset()
	second, err := sqlstore.Migrate(t.Context(), dsn, logger)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if second != (sqlstore.MigrateResult{From: want, To: want}) {
		t.Errorf("second migrate = %+v, want from %d to %d", second, want, want)
	}
	if logs.Len() != 0 {
		t.Errorf("second migrate logged:\n%s", logs.String())
	}
	if got := tableCount(t, db); got != tables {
		t.Errorf("tables after second migrate = %d, want %d", got, tables)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := testenv.NewEmptyDatabase(t)
	want := latest(t)
	const callers = 3
	results := make([]sqlstore.MigrateResult, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = sqlstore.Migrate(t.Context(), dsn, nil) })
	}
	wg.Wait()
	applied := 0
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
			continue
		}
		if results[i].To != want {
			t.Errorf("caller %d ended at version %d, want %d", i, results[i].To, want)
		}
		if results[i].From == 0 {
			applied++
		}
	}
	if applied != 1 {
		t.Errorf("%d callers applied the migrations (results %+v), want exactly 1", applied, results)
	}
}

func TestMigrateWaitsForTheLock(t *testing.T) {
	t.Parallel()
	dsn := testenv.NewEmptyDatabase(t)
	db := open(t, dsn)
	holder, err := db.Conn(t.Context())
	if err != nil {
		t.Fatalf("conn: %v", err)
	}
	defer func() { _ = holder.Close() }()
	var name string
	if err := holder.QueryRowContext(t.Context(), "SELECT CONCAT('jetmon_migrate:', DATABASE())").Scan(&name); err != nil {
		t.Fatalf("lock name: %v", err)
	}
	var got int
	if err := holder.QueryRowContext(t.Context(), "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil || got != 1 {
		t.Fatalf("take lock: got %d, %v", got, err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err = sqlstore.Migrate(ctx, dsn, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("migrate while locked: err = %v, want deadline exceeded", err)
	}
	if n := tableCount(t, db); n != 0 {
		t.Errorf("%d tables created while the lock was held elsewhere", n)
	}

	if _, err := holder.ExecContext(t.Context(), "SELECT RELEASE_LOCK(?)", name); err != nil {
		t.Fatalf("release lock: %v", err)
	}
	if _, err := sqlstore.Migrate(t.Context(), dsn, nil); err != nil {
		t.Fatalf("migrate after release: %v", err)
	}
}

func TestMigrateRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string // SQL expression for the recorded version
		dirty   int
		wantErr string
	}{
		{name: "dirty version", version: "3", dirty: 1, wantErr: "version 3 is dirty"},
		{name: "version newer than the binary", version: "1000000", dirty: 0, wantErr: "newer than this binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, dsn := testenv.NewDatabase(t)
			db := open(t, dsn)
			_, err := db.ExecContext(t.Context(),
				"UPDATE "+sqlstore.MigrationsTable+" SET version = "+tt.version+", dirty = ?", tt.dirty)
			if err != nil {
				t.Fatalf("set version: %v", err)
			}
			_, err = sqlstore.Migrate(t.Context(), dsn, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("migrate: err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestMigrateNeedsADatabase(t *testing.T) {
	t.Parallel()
	_, err := sqlstore.Migrate(t.Context(), "root@tcp(127.0.0.1:3306)/", nil)
	if err == nil || !strings.Contains(err.Error(), "names no database") {
		t.Fatalf("migrate without a database: err = %v", err)
	}
}
