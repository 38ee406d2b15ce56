package apistore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// t0 is the tests' "now": whole milliseconds, UTC.
var t0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// world is one test's database and stores: root's (db) and, as the API
// runs it, the store on an account with only apistore.APIGrants.
type world struct {
	db    *sql.DB // root: for fixtures and checks
	clk   *clock
	store *apistore.Store // on the restricted account
}

// newWorld creates a fresh database, an account with the API's grants on it
// (dropped at the end), and a store on that account with a test clock.
func newWorld(t *testing.T) *world {
	t.Helper()
	db, dsn := testenv.NewDatabase(t)
	clk := &clock{now: t0}
	store, err := apistore.New(restrictedDB(t, db, dsn, apistore.APIGrants), apistore.Opts{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &world{db: db, clk: clk, store: store}
}

// restrictedDB creates an account with grants(database, account) on dsn's
// database, drops it when the test ends, and returns a pool on it.
func restrictedDB(t *testing.T, admin *sql.DB, dsn string, grants func(database, account string) []string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	user, password := "jmt_"+hex.EncodeToString(b), hex.EncodeToString(b)+"pw"
	account := "'" + user + "'@'%'"
	ctx := t.Context()
	if _, err := admin.ExecContext(ctx, "CREATE USER "+account+" IDENTIFIED BY '"+password+"'"); err != nil {
		t.Fatalf("create user: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP USER "+account); err != nil {
			t.Errorf("drop user %s: %v", account, err)
		}
	})
	for _, g := range grants(cfg.DBName, account) {
		if _, err := admin.ExecContext(ctx, g); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
	}
	cfg.User, cfg.Passwd = user, password
	pool, err := sqlstore.Open(ctx, cfg.FormatDSN(), sqlstore.PoolOpts{MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	return pool
}

// exec runs a fixture statement as root.
func (w *world) exec(t *testing.T, query string, args ...any) sql.Result {
	t.Helper()
	res, err := w.db.ExecContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// insertID runs an INSERT as root and returns the new id.
func (w *world) insertID(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	id, err := w.exec(t, query, args...).LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// addSite inserts a site row as the coordinator's fixtures would.
func (w *world) addSite(t *testing.T, blog int64, active bool, url string) int64 {
	t.Helper()
	return w.insertID(t, `INSERT INTO jetpack_monitor_sites (blog_id, monitor_url, monitor_active) VALUES (?, ?, ?)`,
		blog, url, active)
}

// addEvent inserts an event as the coordinator would (ended zero: open).
func (w *world) addEvent(t *testing.T, blog int64, checkType string, sev uptime.Severity, state uptime.State,
	started, ended time.Time) int64 {
	t.Helper()
	var end any
	if !ended.IsZero() {
		end = ended
	}
	return w.insertID(t, `INSERT INTO jetmon_events (blog_id, check_type, severity, state, started_at, ended_at, metadata)
		VALUES (?, ?, ?, ?, ?, ?, '{"k":"v"}')`, blog, checkType, uint8(sev), string(state), started, end)
}

// addTransition inserts a transition of event (before nil: an open).
func (w *world) addTransition(t *testing.T, event, blog int64, before, after *uptime.Severity, reason uptime.Reason,
	metadata map[string]any, at time.Time) int64 {
	t.Helper()
	md, err := json.Marshal(metadata)
	if err != nil {
		t.Fatal(err)
	}
	sev := func(s *uptime.Severity) any {
		if s == nil {
			return nil
		}
		return uint8(*s)
	}
	return w.insertID(t, `INSERT INTO jetmon_event_transitions (event_id, blog_id, severity_before, severity_after,
		state_before, state_after, reason, source, metadata, changed_at) VALUES (?, ?, ?, ?, 'Seems Down', 'Down', ?, 'local', ?, ?)`,
		event, blog, sev(before), sev(after), string(reason), md, at)
}

func ptr[T any](v T) *T { return &v }
