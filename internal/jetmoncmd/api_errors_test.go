package jetmoncmd

import (
	"database/sql"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestAPIEveryErrorCode produces every code of the API's error table with a
// real HTTP request against the real wiring: MariaDB, in-process NATS and,
// where a row needs one, a running coordinator. The codes come from the
// served OpenAPI document (its ErrorCode enum is generated from the table)
// and their statuses from docs/api.md's error table (generated from the same
// table, kept in sync by api's TestDocsListEveryRouteAndCode), so a new code
// without a row here fails. Failures of MySQL and NATS are real ones: a
// closed pool, a closed connection, an account without a privilege, no
// coordinator, a coordinator whose own query fails.
func TestAPIEveryErrorCode(t *testing.T) {
	t.Parallel()
	f := newErrFixture(t)
	codes := servedErrorCodes(t, f.main, f.reader)
	statuses := documentedErrorStatuses(t)
	if !slices.Equal(codes, slices.Sorted(maps.Keys(statuses))) {
		t.Fatalf("the OpenAPI ErrorCode enum %v and docs/api.md's error table %v differ", codes, slices.Sorted(maps.Keys(statuses)))
	}
	rows := map[string]errorRow{}
	for _, r := range slices.Concat(authErrorRows(), paramErrorRows(), bodyErrorRows(), resourceErrorRows(), failureErrorRows()) {
		if _, dup := rows[r.code]; dup {
			t.Errorf("two rows for %s", r.code)
		}
		if _, known := statuses[r.code]; !known {
			t.Errorf("row %s names no code of the error table", r.code)
		}
		rows[r.code] = r
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			row, ok := rows[code]
			if !ok {
				t.Fatalf("no row produces %s", code)
			}
			checkErrorResponse(t, row, statuses[code], row.send(t, f.in(t)))
		})
	}
}

// errorRow is the request that must answer with one error code.
type errorRow struct {
	code  string
	field string // the envelope's field; "" where the API names none
	send  func(t *testing.T, f *errFixture) apiResponse
}

// checkErrorResponse checks r is row's code with status and a well-formed
// envelope: the response's request id, the field, and no cause's text.
func checkErrorResponse(t *testing.T, row errorRow, status int, r apiResponse) {
	t.Helper()
	var env api.ErrorEnvelope
	r.decode(t, &env)
	if r.status != status || string(env.Error.Code) != row.code {
		t.Fatalf("%d %s, want %d %s", r.status, r.body, status, row.code)
	}
	if id := r.header.Get("X-Request-ID"); id == "" || env.Error.RequestID != id {
		t.Errorf("request_id %q, X-Request-ID %q", env.Error.RequestID, id)
	}
	if env.Error.Field != row.field {
		t.Errorf("field %q, want %q", env.Error.Field, row.field)
	}
	if env.Error.Message == "" {
		t.Error("no message")
	}
	for _, leak := range []string{"sql", "Error 1", "denied", "nats:", "connection", "internal:"} {
		if status >= 500 && strings.Contains(env.Error.Message, leak) {
			t.Errorf("the message leaks its cause (%q): %s", leak, env.Error.Message)
		}
	}
}

// servedErrorCodes reads the ErrorCode enum of the served OpenAPI document,
// sorted.
func servedErrorCodes(t *testing.T, c *apiClient, token string) []string {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas struct {
				ErrorCode struct {
					Enum []string `json:"enum"`
				} `json:"ErrorCode"`
			} `json:"schemas"`
		} `json:"components"`
	}
	c.want(http.StatusOK, http.MethodGet, "/openapi.json", token, nil).decode(t, &doc)
	codes := slices.Sorted(slices.Values(doc.Components.Schemas.ErrorCode.Enum))
	if len(codes) == 0 {
		t.Fatal("the OpenAPI document enumerates no error code")
	}
	return codes
}

// docsErrorLine is one line of docs/api.md's generated error table.
var docsErrorLine = regexp.MustCompile("(?m)^\\| (\\d{3}) \\| `([a-z_]+)` \\|")

// documentedErrorStatuses reads docs/api.md's error table: code → status.
func documentedErrorStatuses(t *testing.T) map[string]int {
	t.Helper()
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- errors:begin", "<!-- errors:end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("docs/api.md has no %s ... %s block", begin, end)
	}
	out := map[string]int{}
	for _, m := range docsErrorLine.FindAllStringSubmatch(string(doc[i:j]), -1) {
		out[m[2]], _ = strconv.Atoi(m[1])
	}
	return out
}

// errFixture is one world (no coordinator) with four API servers on it and
// the keys and rows the requests name.
type errFixture struct {
	db *sql.DB // root, for the rows' own fixtures
	// main runs the API role's wiring as root; closedDB's MySQL pool is
	// closed, closedNATS's NATS connection is closed, noSites runs as an
	// account that may read keys but not jetpack_monitor_sites.
	main, closedDB, closedNATS, noSites *apiClient

	reader, writer, gateway, revoked, expired, slow string // tokens

	hook                 int64 // a webhook
	delivered, abandoned int64 // deliveries of hook
	smsContact           int64 // an alert contact of a transport this build has no sender for
	lockSite             int64 // the row id of inactive site 3 (idempotency_in_progress)
}

func newErrFixture(t *testing.T) *errFixture {
	t.Helper()
	w := newAPIWorld(t)
	f := &errFixture{db: w.db}
	w.addSite(1, "https://one.example/")
	w.addSite(4, "https://four.example/")
	f.lockSite = w.insertID(`INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url, monitor_active,
		check_interval) VALUES (3, 3, 'https://three.example/', 0, ?)`, apiRareCheck)
	// A contact stored by a newer release that added a transport (during a
	// rollout): this build has senders for the four transports it knows
	// only, so its send-test has none for it.
	w.exec(`ALTER TABLE jetmon_alert_contacts MODIFY transport ENUM('email', 'pagerduty', 'slack', 'teams', 'sms') NOT NULL`)
	f.smsContact = w.insertID(`INSERT INTO jetmon_alert_contacts (label, transport, destination, destination_preview)
		VALUES ('on call', 'sms', '{"number": "+15550100"}', '0100')`)

	var mainNode, dbNode, natsNode *testNode
	f.main, mainNode = w.apiServerNode("api-errors", "", nil)
	// The delivery job stream exists, so a retry's publish fails only where
	// the connection is closed.
	if err := bus.EnsureAssets(t.Context(), mainNode.cn.JS, bus.AssetOpts{NodeTTL: testNodeTTL, LeaderTTL: testLeaderTTL}); err != nil {
		t.Fatal(err)
	}
	f.closedDB, dbNode = w.apiServerNode("api-closed-db", "", nil)
	f.closedNATS, natsNode = w.apiServerNode("api-closed-nats", "", nil)
	pool, ok := dbNode.cn.Shared(dbKey)
	if !ok {
		t.Fatal("the API server shares no MySQL pool")
	}
	if err := pool.(*sql.DB).Close(); err != nil {
		t.Fatal(err)
	}
	natsNode.nc.Close()
	f.noSites = w.apiServer("api-no-sites", w.restrictedDSN(keysOnlyGrants), nil)

	_, f.reader = w.newKey("reader", uptime.ScopeRead)
	_, f.writer = w.newKey("writer", uptime.ScopeWrite)
	_, f.gateway = w.newKey("gateway", uptime.ScopeRead)
	cutoff := func(column string) string {
		key, token := w.newKey(column, uptime.ScopeRead)
		w.exec("UPDATE jetmon_api_keys SET "+column+" = ? WHERE id = ?", time.Now().Add(-time.Hour), key.ID)
		return token
	}
	f.revoked, f.expired = cutoff("revoked_at"), cutoff("expires_at")
	slow, token := w.newKey("slow", uptime.ScopeRead)
	w.exec("UPDATE jetmon_api_keys SET rate_limit_per_minute = 1 WHERE id = ?", slow.ID)
	f.slow = token

	var hook struct {
		ID int64 `json:"id"`
	}
	f.main.want(http.StatusCreated, http.MethodPost, "/webhooks", f.writer, map[string]any{"url": "https://hooks.example/errors"}).
		decode(t, &hook)
	f.hook = hook.ID
	delivery := func(transition int64, status uptime.DeliveryStatus) int64 {
		return w.insertID(`INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id, event_type,
			payload, status, attempt) VALUES ('webhook', ?, ?, 1, 1, 'event.opened', '{"v":1}', ?, 1)`, f.hook, transition, string(status))
	}
	f.delivered, f.abandoned = delivery(1, uptime.DeliveryDelivered), delivery(2, uptime.DeliveryAbandoned)
	return f
}

// keysOnlyGrants let an account authenticate and audit, and nothing else.
func keysOnlyGrants(database, account string) []string {
	db := "`" + database + "`"
	return []string{
		"GRANT SELECT, UPDATE (last_used_at) ON " + db + ".jetmon_api_keys TO " + account,
		"GRANT INSERT ON " + db + ".jetmon_audit_log TO " + account,
	}
}

// in is f with its clients reporting to t.
func (f *errFixture) in(t *testing.T) *errFixture {
	g := *f
	for _, c := range []**apiClient{&g.main, &g.closedDB, &g.closedNATS, &g.noSites} {
		cc := **c
		cc.t = t
		*c = &cc
	}
	return &g
}

// get and post send to the main server.
func (f *errFixture) get(path, token string, header ...string) apiResponse {
	return f.main.do(http.MethodGet, path, token, nil, header...)
}

func (f *errFixture) post(path, token string, body any, header ...string) apiResponse {
	return f.main.do(http.MethodPost, path, token, body, header...)
}

// req is a row sending one request to the main server.
func req(method, path string, token func(*errFixture) string, body any, header ...string) func(*testing.T, *errFixture) apiResponse {
	return func(_ *testing.T, f *errFixture) apiResponse {
		tok := ""
		if token != nil {
			tok = token(f)
		}
		return f.main.do(method, path, tok, body, header...)
	}
}

func reader(f *errFixture) string { return f.reader }
func writer(f *errFixture) string { return f.writer }

// hookPath is path on the fixture's webhook.
func hookPath(f *errFixture, format string, args ...any) string {
	return "/webhooks/" + strconv.FormatInt(f.hook, 10) + fmt.Sprintf(format, args...)
}

// authErrorRows are the authentication, scope, gateway and rate-limit codes.
func authErrorRows() []errorRow {
	const get = http.MethodGet
	return []errorRow{
		{"missing_token", "", req(get, "/sites", nil, nil)},
		{"invalid_token", "", req(get, "/sites", func(*errFixture) string { return "jm_" + strings.Repeat("A", 52) }, nil)},
		{"token_revoked", "", req(get, "/me", func(f *errFixture) string { return f.revoked }, nil)},
		{"token_expired", "", req(get, "/me", func(f *errFixture) string { return f.expired }, nil)},
		{"insufficient_scope", "", req(http.MethodPost, "/sites/1/pause", reader, nil)},
		{"forbidden_gateway_context", "", req(get, "/sites", reader, nil, "X-Jetmon-Tenant-ID", "t1")},
		{"invalid_gateway_context", "X-Jetmon-Public-Scopes",
			req(get, "/sites", func(f *errFixture) string { return f.gateway }, nil, "X-Jetmon-Tenant-ID", "t1")},
		// The key's one request a minute is spent by the first call.
		{"rate_limited", "", func(_ *testing.T, f *errFixture) apiResponse {
			f.main.want(http.StatusOK, get, "/me", f.slow, nil)
			return f.get("/me", f.slow)
		}},
	}
}

// paramErrorRows are the path, query and header parameter codes.
func paramErrorRows() []errorRow {
	const get = http.MethodGet
	return []errorRow{
		{"invalid_query", "bogus", req(get, "/sites?bogus=1", reader, nil)},
		{"invalid_limit", "limit", req(get, "/sites?limit=-1", reader, nil)},
		{"invalid_cursor", "cursor", req(get, "/sites?cursor=abc", reader, nil)},
		{"invalid_site_id", "site_id", req(get, "/sites/abc", reader, nil)},
		{"invalid_event_id", "event_id", req(get, "/events/0", reader, nil)},
		{"invalid_webhook_id", "webhook_id", req(get, "/webhooks/-3", reader, nil)},
		{"invalid_alert_contact_id", "alert_contact_id", req(get, "/alert-contacts/x", reader, nil)},
		{"invalid_delivery_id", "delivery_id", func(_ *testing.T, f *errFixture) apiResponse {
			return f.post(hookPath(f, "/deliveries/zero/retry"), f.writer, nil)
		}},
		{"invalid_state_filter", "state", req(get, "/sites?state=Sideways", reader, nil)},
		{"invalid_severity", "severity__gte", req(get, "/sites?severity__gte=high", reader, nil)},
		{"invalid_monitor_active", "monitor_active", req(get, "/sites?monitor_active=maybe", reader, nil)},
		{"invalid_active", "active", req(get, "/sites/1/events?active=maybe", reader, nil)},
		{"invalid_started_at__gte", "started_at__gte", req(get, "/sites/1/events?started_at__gte=yesterday", reader, nil)},
		{"invalid_started_at__lt", "started_at__lt", req(get, "/sites/1/events?started_at__lt=2026-13-01", reader, nil)},
		{"invalid_window", "window", req(get, "/sites/1/uptime?window=2w", reader, nil)},
		{"invalid_status", "status", func(_ *testing.T, f *errFixture) apiResponse {
			return f.get(hookPath(f, "/deliveries?status=lost"), f.reader)
		}},
		{"invalid_grace", "grace", func(_ *testing.T, f *errFixture) apiResponse {
			return f.post(hookPath(f, "/rotate-secret?grace=1y"), f.writer, nil)
		}},
		// Go's client refuses to send a control character in a header, so
		// the key is too long instead.
		{"invalid_idempotency_key", "Idempotency-Key",
			req(http.MethodPost, "/sites/1/resume", writer, nil, "Idempotency-Key", strings.Repeat("k", 256))},
	}
}

// bodyErrorRows are the request-body codes.
func bodyErrorRows() []errorRow {
	const post = http.MethodPost
	site := func(extra string) string { return `{"blog_id":20,"monitor_url":"https://x.example"` + extra + `}` }
	return []errorRow{
		{"invalid_body", "nope", req(post, "/sites", writer, site(`,"nope":1`))},
		{"invalid_url", "monitor_url", req(post, "/sites", writer, `{"blog_id":20,"monitor_url":"ftp://x.example"}`)},
		{"invalid_blog_id", "blog_id", req(post, "/sites", writer, `{"blog_id":0,"monitor_url":"https://x.example"}`)},
		{"invalid_transport", "transport", req(post, "/alert-contacts", writer, `{"label":"a","transport":"pager","destination":{}}`)},
		{"body_too_large", "", req(post, "/sites", writer, `{"monitor_url":"`+strings.Repeat("a", 1<<20)+`"}`)},
		{"invalid_redirect_policy", "redirect_policy", req(post, "/sites", writer, site(`,"redirect_policy":"sometimes"`))},
		{"invalid_custom_headers", "custom_headers", req(post, "/sites", writer, site(`,"custom_headers":{"Bad Name":"v"}`))},
		{"invalid_field", "check_interval", req(http.MethodPatch, "/sites/1", writer, `{"check_interval":0}`)},
		{"invalid_event_type", "events", req(post, "/webhooks", writer, `{"url":"https://h.example","events":["site.exploded"]}`)},
		{"invalid_alert_contact", "destination.address", req(post, "/alert-contacts", writer,
			`{"label":"a","transport":"email","destination":{"address":"not-an-address"}}`)},
	}
}

// resourceErrorRows are the not-found, routing and conflict codes.
func resourceErrorRows() []errorRow {
	const get, post = http.MethodGet, http.MethodPost
	return []errorRow{
		{"site_not_found", "", req(get, "/sites/404", reader, nil)},
		{"event_not_found", "", req(get, "/events/404404", reader, nil)},
		{"webhook_not_found", "", req(get, "/webhooks/404404", reader, nil)},
		{"alert_contact_not_found", "", req(get, "/alert-contacts/404404", reader, nil)},
		{"delivery_not_found", "", func(_ *testing.T, f *errFixture) apiResponse {
			return f.post(hookPath(f, "/deliveries/404404/retry"), f.writer, nil)
		}},
		{"endpoint_not_found", "", req(get, "/nothing-here", reader, nil)},
		{"method_not_allowed", "", req(http.MethodPut, "/sites", writer, nil)},
		{"site_exists", "blog_id", req(post, "/sites", writer, `{"blog_id":1,"monitor_url":"https://x.example"}`)},
		// The same key, method and path with another body.
		{"idempotency_conflict", "Idempotency-Key", func(_ *testing.T, f *errFixture) apiResponse {
			f.main.want(http.StatusOK, post, "/sites/4/resume", f.writer, nil, "Idempotency-Key", "conflict")
			return f.post("/sites/4/resume", f.writer, `{}`, "Idempotency-Key", "conflict")
		}},
		{"idempotency_in_progress", "Idempotency-Key", idempotencyInProgress},
		{"delivery_not_retryable", "", func(_ *testing.T, f *errFixture) apiResponse {
			return f.post(hookPath(f, "/deliveries/%d/retry", f.delivered), f.writer, nil)
		}},
	}
}

// failureErrorRows are the codes of failing dependencies, each failing for
// real.
func failureErrorRows() []errorRow {
	return []errorRow{
		// The key store's query runs on a closed pool.
		{"auth_error", "", func(_ *testing.T, f *errFixture) apiResponse {
			return f.closedDB.do(http.MethodGet, "/me", f.reader, nil)
		}},
		// The key is read; the sites are not: MariaDB denies the account
		// SELECT on jetpack_monitor_sites.
		{"db_error", "", func(_ *testing.T, f *errFixture) apiResponse {
			return f.noSites.do(http.MethodGet, "/sites", f.reader, nil)
		}},
		// The retry resets the row, its job cannot be published on the
		// closed connection, the reset is undone (the API has no better code
		// for a failure of the deliverer's Ops than internal_error); the
		// same retry then succeeds on the main server.
		{"internal_error", "", func(_ *testing.T, f *errFixture) apiResponse {
			path := hookPath(f, "/deliveries/%d/retry", f.abandoned)
			r := f.closedNATS.do(http.MethodPost, path, f.writer, nil)
			f.main.want(http.StatusOK, http.MethodPost, path, f.writer, nil)
			return r
		}},
		{"coordinator_error", "", coordinatorError},
		{"db_unavailable", "", func(_ *testing.T, f *errFixture) apiResponse {
			return f.closedDB.do(http.MethodGet, "/health", "", nil)
		}},
		// Health, and the mesh view, which has nothing to read either.
		{"nats_unavailable", "", func(t *testing.T, f *errFixture) apiResponse {
			if r := f.closedNATS.do(http.MethodGet, "/mesh", f.reader, nil); r.status != http.StatusServiceUnavailable ||
				r.errorCode() != "nats_unavailable" {
				t.Errorf("GET /mesh on a closed NATS connection: %d %s", r.status, r.body)
			}
			return f.closedNATS.do(http.MethodGet, "/health", "", nil)
		}},
		// The fixture's world runs no coordinator: nobody answers.
		{"coordinator_unavailable", "", req(http.MethodPost, "/sites/1/pause", writer, nil)},
		{"transport_not_configured", "transport", func(_ *testing.T, f *errFixture) apiResponse {
			return f.post(fmt.Sprintf("/alert-contacts/%d/test", f.smsContact), f.writer, nil)
		}},
	}
}

// idempotencyInProgress sends a resume while the first one with the same
// key runs: root holds the site's row lock, so the first request claims its
// key and then waits on the row.
func idempotencyInProgress(t *testing.T, f *errFixture) apiResponse {
	const path, key = "/sites/3/resume", "in-flight"
	tx, err := f.db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var locked int64
	if err := tx.QueryRowContext(t.Context(), `SELECT jetpack_monitor_site_id FROM jetpack_monitor_sites
		WHERE jetpack_monitor_site_id = ? FOR UPDATE`, f.lockSite).Scan(&locked); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	go func() { first <- f.main.sendOff(http.MethodPost, path, f.writer, "Idempotency-Key", key) }()
	waitFor(t, stepBudget, "the first resume claims its key", func() error {
		var n int
		err := f.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM jetmon_idempotency_keys
			WHERE idem_key = ? AND path = ? AND status = 0`, key, "/api/v1"+path).Scan(&n)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d in-flight records", n)
		}
		return err
	})
	r := f.post(path, f.writer, nil, "Idempotency-Key", key)
	select {
	case got := <-first:
		t.Fatalf("the first resume answered %s while root held the row", got)
	default:
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := <-first; got != "200" {
		t.Errorf("the first resume: %s, want 200", got)
	}
	return r
}

// sendOff sends a request off the test's goroutine and returns its status,
// or the error, as text.
func (c *apiClient) sendOff(method, path, token string, header ...string) string {
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err.Error()
	}
	_ = resp.Body.Close()
	return strconv.Itoa(resp.StatusCode)
}

// coordinatorError runs a world of its own with a leading coordinator whose
// MySQL account may read every column but
// jetpack_monitor_sites.last_alert_sent_at: its site sync works, but the
// site lookup of site.trigger fails, and the coordinator answers the
// command with an internal error, which the API maps to 502. No refusal
// (bad_request) is reachable: the API validates every field the
// coordinator checks, as strictly or more so (reasons, note length, ids;
// the actor is the key's consumer, at most 128 characters where the
// coordinator allows 200).
func coordinatorError(t *testing.T, _ *errFixture) apiResponse {
	w := newAPIWorld(t)
	w.addSite(1, "https://one.example/")
	dsn := w.restrictedDSN(func(database, account string) []string { return blindCoordinatorGrants(w, database, account) })
	w.start(addCoordinator, "c1", "a", map[string]string{"DB_DSN": dsn})
	c := w.apiServer("api-coord-error", "", nil)
	_, token := w.newKey("ops", uptime.ScopeWrite)
	w.waitLeader(c, token)
	var r apiResponse
	waitFor(t, stepBudget, "the leader serves commands", func() error {
		r = c.do(http.MethodPost, "/sites/1/trigger-now", token, nil)
		if r.errorCode() == "coordinator_unavailable" {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	return r
}

// blindCoordinatorGrants are coordinatorGrants with SELECT on each table and
// on every column of jetpack_monitor_sites but last_alert_sent_at instead
// of SELECT on the whole database.
func blindCoordinatorGrants(w *apiWorld, database, account string) []string {
	ctx := w.t.Context()
	name := func(rows *sql.Rows) (string, error) {
		var s string
		return s, rows.Scan(&s)
	}
	tables, err := queryRows(ctx, w.db, name, `SELECT table_name FROM information_schema.tables WHERE table_schema = ?
		AND table_name <> 'jetpack_monitor_sites'`, database)
	if err != nil {
		w.t.Fatal(err)
	}
	columns, err := queryRows(ctx, w.db, name, `SELECT column_name FROM information_schema.columns WHERE table_schema = ?
		AND table_name = 'jetpack_monitor_sites' AND column_name <> 'last_alert_sent_at'`, database)
	if err != nil || len(tables) == 0 || len(columns) == 0 {
		w.t.Fatalf("tables %v, columns %v: %v", tables, columns, err)
	}
	db := "`" + database + "`"
	grants := []string{"GRANT SELECT (" + strings.Join(columns, ", ") + ") ON " + db + ".jetpack_monitor_sites TO " + account}
	for _, table := range tables {
		grants = append(grants, "GRANT SELECT ON "+db+".`"+table+"` TO "+account)
	}
	for _, g := range coordinatorGrants(database, account) {
		if !strings.HasPrefix(g, "GRANT SELECT ON ") {
			grants = append(grants, g)
		}
	}
	return grants
}
