package jetmoncmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The API integration tests (issue 7 item 10): real keys, the real HTTP
// handler built by the API role's own wiring (apiOpts), MariaDB, and an
// in-process coordinator (and prober, for trigger-now) over in-process
// NATS, wired by the shared harness of testnode_test.go.

// The API tests' mesh beyond the shared timings.
const (
	apiBuckets   = 4
	apiRareCheck = 1440 // check_interval of sites no scheduled check should touch during a test
)

// apiWorld is one test's database, NATS server and (lazily) target fleet;
// its nodes log WARN and above.
type apiWorld struct {
	testWorld
	fleet *testsite.Fleet
}

func newAPIWorld(t testing.TB) *apiWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	env := map[string]string{"API_ADDR": "127.0.0.1:0"}
	return &apiWorld{testWorld: newTestWorld(t, ns.URL(), slog.LevelWarn, checkingEnv(apiBuckets), env)}
}

// withFleet starts a testsite fleet for the world.
func (w *apiWorld) withFleet() *testsite.Fleet {
	w.t.Helper()
	w.fleet = startFleet(w.t, false)
	return w.fleet
}

// apiClient talks to one API server.
type apiClient struct {
	t    testing.TB
	base string
	http *http.Client
}

// apiServer builds an API server with the API role's wiring, as user dsn
// (root's when empty), with now as its clock (time.Now when nil), and
// serves its handler on an httptest server until the test ends.
func (w *apiWorld) apiServer(id, dsn string, now func() time.Time) *apiClient {
	w.t.Helper()
	c, _ := w.apiServerNode(id, dsn, now)
	return c
}

// apiServerNode is apiServer that also returns the server's node (not
// run), whose NATS connection and shared MySQL pool the server uses.
func (w *apiWorld) apiServerNode(id, dsn string, now func() time.Time) (*apiClient, *testNode) {
	t := w.t
	t.Helper()
	extra := map[string]string{}
	if dsn != "" {
		extra["DB_DSN"] = dsn
	}
	n := w.wire(t.Context(), nil, w.nodeConfig(id, "a", extra))
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
		n.cn.Abort()
	})
	return &apiClient{t: t, base: hs.URL + "/api/v1", http: hs.Client()}, n
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
func (r apiResponse) decode(t testing.TB, out any) {
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

// addSite inserts an active site (checked once a day, so no scheduled
// check interferes) in bucket blog mod apiBuckets.
func (w *apiWorld) addSite(blog int64, url string) {
	w.t.Helper()
	w.addActiveSite(blog, int(blog%apiBuckets), url, apiRareCheck)
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
	waitFor(w.t, stepBudget, "a coordinator leads", func() error {
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
