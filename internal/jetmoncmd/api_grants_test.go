package jetmoncmd

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// routeWalk calls routes and records which operations (method and path
// template) answered successfully.
type routeWalk struct {
	t     *testing.T
	c     *apiClient
	token string
	done  map[string]bool
}

// call sends method to template with its {params} replaced in order by args
// (a query string may follow the template) and fails unless it answers
// status.
func (rw *routeWalk) call(status int, method, template string, body any, args ...any) apiResponse {
	rw.t.Helper()
	path, query, _ := strings.Cut(template, "?")
	concrete := path
	for _, a := range args {
		i, j := strings.Index(concrete, "{"), strings.Index(concrete, "}")
		concrete = concrete[:i] + fmt.Sprint(a) + concrete[j+1:]
	}
	if query != "" {
		concrete += "?" + query
	}
	r := rw.c.want(status, method, concrete, rw.token, body)
	rw.done[method+" /api/v1"+path] = true
	return r
}

// TestAPIGrants runs the API with a MySQL account that has only
// apistore.APIGrants — no write privilege on jetmon_events,
// jetmon_event_transitions or the coordinator's columns of
// jetpack_monitor_sites — and calls every documented route successfully,
// the incident changes included: the proof that the API never writes
// incident state itself. The coordinator runs with coordinatorGrants, the
// prober's results and the commands exercising its writes.
func TestAPIGrants(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	fleet := w.withFleet()
	dsn := w.restrictedDSN(apistore.APIGrants)
	coordDSN := w.restrictedDSN(coordinatorGrants)
	w.addSite(1, fleet.URL("one"))
	w.addSite(2, fleet.URL("two"))
	ev := w.openEvent(1, uptime.StateDown)
	w.openEvent(2, uptime.StateSeemsDown) // trigger-now's success closes it
	// Site 4 is checked every MIN_CHECK_INTERVAL: its results go through the
	// coordinator's ingest commit.
	w.addActiveSite(4, 0, fleet.URL("four"), 0)
	hour := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	w.exec(`INSERT INTO jetmon_check_rollups_hourly (blog_id, hour, checks, failures, rtt_samples, sum_rtt_ms, min_rtt_ms,
		max_rtt_ms, sum_dns_ms, sum_tcp_ms, sum_tls_ms, sum_ttfb_ms) VALUES (1, ?, 60, 2, 58, 5800, 40, 400, 58, 116, 174, 232)`, hour)
	w.start(addCoordinator, "c1", "a", map[string]string{"DB_DSN": coordDSN})
	w.start(cli.AddProber, "p1", "a", nil)
	c := w.apiServer("api-grants", dsn, nil)
	_, token := w.newKey("granted", uptime.ScopeWrite)
	w.waitLeader(c, token)
	rw := &routeWalk{t: t, c: c, token: token, done: map[string]bool{}}
	const get, post = http.MethodGet, http.MethodPost

	rw.call(200, get, "/health", nil)
	rw.call(200, get, "/me", nil)
	rw.call(200, get, "/mesh", nil)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	rw.call(200, get, "/openapi.json", nil).decode(t, &doc)

	grantsSites(rw, ev)
	grantsWebhooks(rw, w)
	grantsContacts(rw, w)
	committed := func(closed string) func() error {
		return func() error {
			checked := w.scalar(`SELECT COUNT(*) FROM jetpack_monitor_sites WHERE blog_id = 4 AND last_checked_at IS NOT NULL`)
			rollups := w.scalar(`SELECT COUNT(*) FROM jetmon_check_rollups_hourly WHERE blog_id = 4`)
			outbox := w.scalar(`SELECT COUNT(*) FROM jetmon_outbox`)
			n := w.scalar(`SELECT COUNT(*) FROM jetmon_events WHERE ended_at IS NOT NULL`)
			if checked != "1" || rollups == "0" || outbox != "0" || n != closed {
				return fmt.Errorf("checked %s, roll-ups %s, outbox %s, closed events %s", checked, rollups, outbox, n)
			}
			return nil
		}
	}
	waitFor(t, stepBudget, "the coordinator commits results and relays trigger-now's close", committed("1"))
	rw.call(200, post, "/sites/{site_id}/events/{event_id}/close", map[string]any{"note": "granted"}, 1, ev)
	waitFor(t, stepBudget, "the coordinator relays the close", committed("2"))

	var missing []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if op := strings.ToUpper(method) + " " + path; !rw.done[op] {
				missing = append(missing, op)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("documented routes not exercised: %v", missing)
	}
	refused(t, dsn)
}

// grantsSites calls the site, event and statistics routes.
func grantsSites(rw *routeWalk, ev int64) {
	const get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	rw.call(200, get, "/sites", nil)
	rw.call(200, get, "/sites/{site_id}", nil, 1)
	rw.call(201, post, "/sites", map[string]any{"blog_id": 3, "monitor_url": "https://three.example/"})
	rw.call(200, patch, "/sites/{site_id}", map[string]any{"check_keyword": "Welcome", "timeout_seconds": 9}, 3)
	rw.call(200, post, "/sites/{site_id}/pause", nil, 3)
	rw.call(200, post, "/sites/{site_id}/resume", nil, 3)
	rw.call(204, del, "/sites/{site_id}", nil, 3)
	rw.call(200, get, "/sites/{site_id}/events", nil, 1)
	rw.call(200, get, "/sites/{site_id}/events/{event_id}", nil, 1, ev)
	rw.call(200, get, "/sites/{site_id}/events/{event_id}/transitions", nil, 1, ev)
	rw.call(200, get, "/events/{event_id}", nil, ev)
	rw.call(200, get, "/sites/{site_id}/uptime?window=24h", nil, 1)
	rw.call(200, get, "/sites/{site_id}/response-time?window=24h", nil, 1)
	rw.call(200, get, "/sites/{site_id}/timing-breakdown?window=24h", nil, 1)
	waitFor(rw.t, stepBudget, "trigger-now reaches the prober", func() error {
		if r := rw.c.do(post, "/sites/2/trigger-now", rw.token, nil); r.status != 200 {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	rw.call(200, post, "/sites/{site_id}/trigger-now", nil, 2)
}

// abandoned inserts an abandoned delivery of kind to destination (the
// deliverer's row, as root) and returns its id.
func (w *apiWorld) abandoned(kind uptime.DeliveryKind, destination int64) int64 {
	w.t.Helper()
	return w.insertID(`INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id, event_type,
		payload, status, attempt) VALUES (?, ?, ?, 1, 1, 'event.opened', '{"v":1}', 'abandoned', 6)`,
		string(kind), destination, destination*1000)
}

// grantsWebhooks calls the webhook routes.
func grantsWebhooks(rw *routeWalk, w *apiWorld) {
	const get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	var hook struct {
		ID int64 `json:"id"`
	}
	rw.call(201, post, "/webhooks", map[string]any{"url": "https://hooks.example/granted"}).decode(rw.t, &hook)
	rw.call(200, get, "/webhooks", nil)
	rw.call(200, get, "/webhooks/{webhook_id}", nil, hook.ID)
	rw.call(200, patch, "/webhooks/{webhook_id}", map[string]any{"active": false}, hook.ID)
	rw.call(200, post, "/webhooks/{webhook_id}/rotate-secret?grace=10m", nil, hook.ID)
	delivery := w.abandoned(uptime.DeliveryWebhook, hook.ID)
	rw.call(200, get, "/webhooks/{webhook_id}/deliveries", nil, hook.ID)
	rw.call(200, post, "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", nil, hook.ID, delivery)
	rw.call(204, del, "/webhooks/{webhook_id}", nil, hook.ID)
}

// grantsContacts calls the alert-contact routes.
func grantsContacts(rw *routeWalk, w *apiWorld) {
	const get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	var contact struct {
		ID int64 `json:"id"`
	}
	rw.call(201, post, "/alert-contacts", map[string]any{"label": "ops", "transport": "email",
		"destination": map[string]string{"address": "ops@example.com"}}).decode(rw.t, &contact)
	rw.call(200, get, "/alert-contacts", nil)
	rw.call(200, get, "/alert-contacts/{alert_contact_id}", nil, contact.ID)
	rw.call(200, patch, "/alert-contacts/{alert_contact_id}", map[string]any{"max_per_hour": 5}, contact.ID)
	rw.call(200, post, "/alert-contacts/{alert_contact_id}/test", nil, contact.ID)
	delivery := w.abandoned(uptime.DeliveryAlert, contact.ID)
	rw.call(200, get, "/alert-contacts/{alert_contact_id}/deliveries", nil, contact.ID)
	rw.call(200, post, "/alert-contacts/{alert_contact_id}/deliveries/{delivery_id}/retry", nil, contact.ID, delivery)
	rw.call(204, del, "/alert-contacts/{alert_contact_id}", nil, contact.ID)
}

// refused checks that the account really lacks the write privileges the
// API must not have: each statement fails with an access error.
func refused(t *testing.T, dsn string) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func(db *sql.DB) { _ = db.Close() }(db)
	for _, q := range []string{
		`UPDATE jetmon_events SET state = 'Up'`,
		`DELETE FROM jetmon_events`,
		`INSERT INTO jetmon_events (blog_id, check_type, severity, state, started_at) VALUES (1, 'http', 4, 'Down', NOW())`,
		`UPDATE jetmon_event_transitions SET reason = 'x'`,
		`INSERT INTO jetmon_event_transitions (event_id, blog_id, reason) VALUES (1, 1, 'opened')`,
		`UPDATE jetpack_monitor_sites SET site_status = 0`,
		`UPDATE jetpack_monitor_sites SET last_status_change = NOW()`,
		`UPDATE jetpack_monitor_sites SET last_checked_at = NOW()`,
		`INSERT INTO jetpack_monitor_sites (blog_id, monitor_url, site_status) VALUES (99, 'https://x/', 2)`,
		`INSERT INTO jetmon_outbox (transition_id, subject, payload) VALUES (1, 'x', '{}')`,
		`UPDATE jetmon_coordinator_lease SET epoch = epoch + 1`,
	} {
		_, err := db.ExecContext(t.Context(), q)
		me, ok := errors.AsType[*mysql.MySQLError](err)
		if !ok || (me.Number != 1142 && me.Number != 1143) {
			t.Errorf("as the API's account, %q: %v; want an access-denied error", q, err)
		}
	}
}

// coordinatorGrants are docs/mysql-grants.md's coordinator grants.
func coordinatorGrants(database, account string) []string {
	db := "`" + database + "`"
	return []string{
		"GRANT SELECT ON " + db + ".* TO " + account,
		"GRANT INSERT, UPDATE ON " + db + ".jetmon_events TO " + account,
		"GRANT INSERT ON " + db + ".jetmon_event_transitions TO " + account,
		"GRANT UPDATE (site_status, last_status_change, last_checked_at, ssl_expiry_date, last_alert_sent_at, updated_at) ON " +
			db + ".jetpack_monitor_sites TO " + account,
		"GRANT INSERT ON " + db + ".jetmon_check_history TO " + account,
		"GRANT INSERT, UPDATE ON " + db + ".jetmon_check_rollups_hourly TO " + account,
		"GRANT INSERT ON " + db + ".jetmon_false_positives TO " + account,
		"GRANT INSERT, DELETE ON " + db + ".jetmon_outbox TO " + account,
		"GRANT INSERT, UPDATE ON " + db + ".jetmon_ingest_progress TO " + account,
		"GRANT INSERT, UPDATE ON " + db + ".jetmon_coordinator_lease TO " + account,
	}
}

// migrateGrants are docs/mysql-grants.md's grants of `jetmon migrate`.
func migrateGrants(database, account string) []string {
	return []string{"GRANT CREATE, ALTER, INDEX, DROP, REFERENCES, SELECT, INSERT, UPDATE, DELETE ON `" + database +
		"`.* TO " + account}
}

// TestAPIGrantsMigrate applies the schema to an empty database as an
// account with only migrateGrants.
func TestAPIGrantsMigrate(t *testing.T) {
	t.Parallel()
	w := &apiWorld{testWorld: testWorld{t: t, db: testenv.NewDB(t), dsn: testenv.NewEmptyDatabase(t)}}
	dsn := w.restrictedDSN(migrateGrants)
	res, err := sqlstore.Migrate(t.Context(), dsn, nil)
	if err != nil || res.To == 0 {
		t.Fatalf("migrate as the migrate account: %+v, %v", res, err)
	}
}

// TestAPIGrantsDocumented checks that docs/mysql-grants.md prints every
// grant the tests prove, with the names it uses.
func TestAPIGrantsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/mysql-grants.md")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]func(database, account string) []string{
		"'jetmon_api'@'%'": apistore.APIGrants, "'jetmon_keys'@'%'": apistore.KeysGrants,
		"'jetmon_coordinator'@'%'": coordinatorGrants, "'jetmon_migrate'@'%'": migrateGrants,
	}
	for account, grants := range roles {
		for _, g := range grants("jetmon", account) {
			if !strings.Contains(string(doc), g+";") {
				t.Errorf("docs/mysql-grants.md lacks %q", g+";")
			}
		}
	}
}
