package jetmoncmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The API integration tests (issue 7 item 10): real keys, the real HTTP
// handler built by the API role's own wiring (apiOpts), MariaDB, and an
// in-process coordinator (and prober, for trigger-now) over in-process
// NATS. The helpers are prefixed api so they depend on no other test file.

// Timings of the API tests' mesh.
const (
	apiTTL       = 2 * time.Second
	apiBuckets   = 4
	apiStop      = 10 * time.Second
	apiPoll      = 25 * time.Millisecond
	apiBudget    = 30 * time.Second // one mesh step under -race on a loaded 2-core box
	apiRareCheck = 1440             // check_interval of sites no scheduled check should touch during a test
)

// apiWorld is one test's database, NATS server and (lazily) target fleet.
type apiWorld struct {
	t       *testing.T
	db      *sql.DB // root: fixtures and checks
	dsn     string  // root's DSN of the test database
	natsURL string
	fleet   *testsite.Fleet
}

func newAPIWorld(t *testing.T) *apiWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	db, dsn := testenv.NewDatabase(t)
	return &apiWorld{t: t, db: db, dsn: dsn, natsURL: ns.URL()}
}

// withFleet starts a testsite fleet for the world.
func (w *apiWorld) withFleet() *testsite.Fleet {
	t := w.t
	t.Helper()
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", CADir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fleet.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("testsite: %v", err)
		}
	})
	if err := fleet.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.fleet = fleet
	return fleet
}

// config is a node's config from env-style overrides (keys without JETMON_).
func (w *apiWorld) config(id string, extra map[string]string) config.Config {
	w.t.Helper()
	env := map[string]string{
		"DB_DSN": w.dsn, "NATS_URL": w.natsURL, "NODE_ID": id, "REGION": "a", "OPS_ADDR": "127.0.0.1:0",
		"API_ADDR": "127.0.0.1:0", "NODE_TTL_SEC": strconv.Itoa(int(apiTTL / time.Second)),
		"LEADER_TTL_SEC": strconv.Itoa(int(apiTTL / time.Second)), "SITE_SYNC_INTERVAL_SEC": "1",
		"MIN_CHECK_INTERVAL_SEC": "5", "TIME_BETWEEN_CHECKS_SEC": "1", "SHUTDOWN_TIMEOUT_SEC": "2",
		"NET_COMMS_TIMEOUT": "3", "BUCKET_TOTAL": strconv.Itoa(apiBuckets),
	}
	maps.Copy(env, extra)
	cfg, err := config.Load("", func(k string) string { return env[strings.TrimPrefix(k, config.EnvPrefix)] })
	if err != nil {
		w.t.Fatalf("config of %s: %v", id, err)
	}
	return cfg
}

// apiNode is one in-process node running one role.
type apiNode struct {
	id     string
	rt     *cli.Runtime
	cn     *cli.Node
	cancel context.CancelFunc
	done   chan error
	ran    bool
}

// wire builds a runtime, a NATS connection and a node, and wires add.
func (w *apiWorld) wire(add cli.AddFunc, id string, extra map[string]string) *apiNode {
	t := w.t
	t.Helper()
	cfg := w.config(id, extra)
	logger := apiLogger(t).With("node_id", id)
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := cli.RuntimeFor(ctx, cfg, logger, "test", id)
	if err != nil {
		cancel()
		t.Fatalf("runtime %s: %v", id, err)
	}
	nc, err := cli.ConnectNATS(cfg, id, logger)
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", id, err)
	}
	cn, err := cli.NewNode(nc, cfg.ShutdownTimeout)
	if err != nil {
		cancel()
		nc.Close()
		t.Fatalf("node %s: %v", id, err)
	}
	if add != nil {
		if err := add(ctx, rt, cn); err != nil {
			cancel()
			cn.Abort()
			t.Fatalf("wire %s: %v", id, err)
		}
	}
	return &apiNode{id: id, rt: rt, cn: cn, cancel: cancel, done: make(chan error, 1)}
}

// start wires add as node id and runs it (with its ops server) until it is
// stopped or the test ends.
func (w *apiWorld) start(add cli.AddFunc, id string, extra map[string]string) *apiNode {
	t := w.t
	t.Helper()
	n := w.wire(add, id, extra)
	n.ran = true
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.done <- cli.RunGroup(ctx, map[string]cli.Runner{"ops": n.rt.Ops, "node": n.cn}) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop stops a started node and waits for it to drain; stopping twice is a
// no-op.
func (n *apiNode) stop(t *testing.T) {
	t.Helper()
	if !n.ran {
		return
	}
	n.ran = false
	n.cancel()
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("node %s: %v", n.id, err)
		}
	case <-time.After(apiStop):
		t.Errorf("node %s did not stop in time", n.id)
	}
}

// apiClient talks to one API server.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

// apiServer builds an API server with the API role's wiring, as user dsn
// (root's when empty), with now as its clock (time.Now when nil), and
// serves its handler on an httptest server until the test ends.
func (w *apiWorld) apiServer(id, dsn string, now func() time.Time) *apiClient {
	t := w.t
	t.Helper()
	extra := map[string]string{}
	if dsn != "" {
		extra["DB_DSN"] = dsn
	}
	n := w.wire(nil, id, extra)
	opts, _, err := apiOpts(t.Context(), n.rt, n.cn)
	if err != nil {
		n.cn.Abort()
		t.Fatalf("api opts: %v", err)
	}
	if now != nil {
		opts.Now = now
	}
	srv, err := api.New(opts)
	if err != nil {
		n.cn.Abort()
		t.Fatalf("api: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		n.cancel()
		n.cn.Abort()
	})
	return &apiClient{t: t, base: hs.URL + "/api/v1", http: hs.Client()}
}

// apiResponse is one answer.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// errorCode is the error envelope's code ("" for another body).
func (r apiResponse) errorCode() string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &env)
	return env.Error.Code
}

// decode decodes the body into out.
func (r apiResponse) decode(t *testing.T, out any) {
	t.Helper()
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends one request: body is JSON-encoded unless it is a string or nil;
// header pairs are name, value.
func (c *apiClient) do(method, path, token string, body any, header ...string) apiResponse {
	t := c.t
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// want sends a request and fails the test unless it answers status.
func (c *apiClient) want(status int, method, path, token string, body any, header ...string) apiResponse {
	c.t.Helper()
	r := c.do(method, path, token, body, header...)
	if r.status != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
	}
	return r
}

// newKey creates an API key as `jetmon keys create` would and returns its
// token.
func (w *apiWorld) newKey(consumer string, scope uptime.Scope) (uptime.APIKey, string) {
	w.t.Helper()
	s, err := apistore.New(w.db, apistore.Opts{})
	if err != nil {
		w.t.Fatal(err)
	}
	key, token, err := s.CreateKey(w.t.Context(), apistore.NewKey{Consumer: consumer, Scope: scope, RateLimitPerMinute: 10000})
	if err != nil {
		w.t.Fatal(err)
	}
	return key, token
}

// exec runs a fixture statement as root.
func (w *apiWorld) exec(query string, args ...any) sql.Result {
	w.t.Helper()
	res, err := w.db.ExecContext(w.t.Context(), query, args...)
	if err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return res
}

// insertID runs an INSERT as root and returns the new id.
func (w *apiWorld) insertID(query string, args ...any) int64 {
	w.t.Helper()
	id, err := w.exec(query, args...).LastInsertId()
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// addSite inserts an active site (checked once a day, so no scheduled
// check interferes) in bucket blog mod apiBuckets.
func (w *apiWorld) addSite(blog int64, url string) {
	w.t.Helper()
	w.exec(`INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active, check_interval)
		VALUES (?, ?, ?, 1, ?)`, blog, blog%apiBuckets, url, apiRareCheck)
}

// openEvent inserts an open HTTP event of blog with its opening
// transition, and projects it as the coordinator would (site_status 0 or
// 2). Call it before the coordinator starts: a leader restores its state
// from the open events when its term begins.
func (w *apiWorld) openEvent(blog int64, state uptime.State) int64 {
	w.t.Helper()
	sev, status := uptime.SeveritySeemsDown, uptime.LegacySiteDown
	if state == uptime.StateDown {
		sev, status = uptime.SeverityDown, uptime.LegacySiteConfirmedDown
	}
	started := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	ev := w.insertID(`INSERT INTO jetmon_events (blog_id, check_type, severity, state, started_at) VALUES (?, 'http', ?, ?, ?)`,
		blog, uint8(sev), string(state), started)
	w.exec(`INSERT INTO jetmon_event_transitions (event_id, blog_id, severity_before, severity_after, state_before,
		state_after, reason, source, metadata, changed_at) VALUES (?, ?, NULL, ?, NULL, ?, 'opened', 'local', ?, ?)`,
		ev, blog, uint8(sev), string(state), `{"votes":[{"region":"b","up":false,"http_code":503}]}`, started)
	w.exec(`UPDATE jetpack_monitor_sites SET site_status = ?, last_status_change = ?, updated_at = updated_at WHERE blog_id = ?`,
		uint8(status), started, blog)
	return ev
}

// waitLeader waits until a coordinator leads and serves commands: a
// site.sync answers.
func (w *apiWorld) waitLeader(c *apiClient, token string) {
	w.t.Helper()
	apiWait(w.t, apiBudget, "a coordinator leads", func() error {
		r := c.do(http.MethodGet, "/mesh", token, nil)
		var m struct {
			Leader *struct {
				NodeID string `json:"node_id"`
			} `json:"leader"`
		}
		_ = json.Unmarshal(r.body, &m)
		if r.status != http.StatusOK || m.Leader == nil {
			return fmt.Errorf("mesh %d %s", r.status, r.body)
		}
		return nil
	})
}

// restrictedDSN creates an account with grants on the test database and
// returns its DSN; the account is dropped when the test ends.
func (w *apiWorld) restrictedDSN(grants func(database, account string) []string) string {
	t := w.t
	t.Helper()
	cfg, err := mysql.ParseDSN(w.dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	user, password := "jmapi_"+hex.EncodeToString(b), hex.EncodeToString(b)+"Pw"
	account := "'" + user + "'@'%'"
	w.exec("CREATE USER " + account + " IDENTIFIED BY '" + password + "'")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := w.db.ExecContext(ctx, "DROP USER "+account); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("drop user %s: %v", account, err)
		}
	})
	for _, g := range grants(cfg.DBName, account) {
		w.exec(g)
	}
	cfg.User, cfg.Passwd = user, password
	return cfg.FormatDSN()
}

// scalar reads one value as root.
func (w *apiWorld) scalar(query string, args ...any) string {
	w.t.Helper()
	var v sql.NullString
	if err := w.db.QueryRowContext(w.t.Context(), query, args...).Scan(&v); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return v.String
}

// apiWait polls cond until it returns nil; its last error explains a
// timeout.
func apiWait(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(apiPoll):
		}
	}
}

// apiLogger writes WARN and above to t.Log until the test's cleanups ran.
func apiLogger(t *testing.T) *slog.Logger {
	w := &apiLogWriter{t: t}
	t.Cleanup(w.close) // registered before the nodes' cleanups, so it runs after them
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type apiLogWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *apiLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *apiLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
