package jetmoncmd

import (
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/deliverystore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Delivery integration tests (issue 6 item 9): deliverers wired as `jetmon
// deliverer` wires them (by the shared harness of testnode_test.go), on a
// fresh MariaDB database, in-process NATS and httptest receivers.

const (
	dlvAckWait = 2 * time.Second // the delivery consumers' AckWait in these tests
	dlvSecret  = "whsec_testsecret0123456789"
)

// dlvWorld is one test's database, NATS and nodes.
type dlvWorld struct {
	testWorld
	js jetstream.JetStream
}

// newDlvWorld starts NATS and a database and creates the mesh's streams
// with a short delivery AckWait (no coordinator runs EnsureAssets here);
// the layers of env override the deliverers' config.
func newDlvWorld(t testing.TB, env ...map[string]string) *dlvWorld {
	t.Helper()
	ns := testenv.StartNATS(t)
	dlv := map[string]string{"DELIVERY_TIMEOUT_SEC": "2", "DELIVERY_WORKERS": "4", "RETRY_SCHEDULE": `["200ms","200ms"]`}
	w := &dlvWorld{testWorld: newTestWorld(t, ns.URL(), slog.LevelInfo, append([]map[string]string{dlv}, env...)...),
		js: newJS(t, ns.Conn(t))}
	if err := bus.EnsureAssets(t.Context(), w.js, bus.AssetOpts{DeliveryAckWait: dlvAckWait, NodeTTL: testNodeTTL,
		LeaderTTL: testLeaderTTL}); err != nil {
		t.Fatal(err)
	}
	return w
}

// startDeliverer starts a deliverer as node id (region "a").
func (w *dlvWorld) startDeliverer(id string) *testNode {
	w.t.Helper()
	return w.start(addDeliverer, id, "a", nil)
}

// crash is kill without even a last write to MySQL: the node's pool is
// closed first, so whatever it held (a delivery's lease) stays as a dead
// process leaves it.
func crash(t testing.TB, n *testNode) {
	t.Helper()
	if db, ok := n.cn.Shared(dbKey); ok {
		_ = db.(*sql.DB).Close()
	}
	n.kill(t)
}

// delivered is how many deliveries n counts delivered.
func delivered(t testing.TB, n *testNode) float64 {
	t.Helper()
	v, err := n.metric("jetmon_delivery_attempts_total", "outcome", "delivered")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// dlvTransition is a committed transition as the outbox relay would publish
// it: HTTP, of blog blogID, notified.
func dlvTransition(id, blogID int64, reason uptime.Reason, kind string) bus.TransitionMessage {
	down, seems := uptime.SeverityDown, uptime.SeveritySeemsDown
	now := time.Now().UTC()
	tr := uptime.Transition{ID: id, EventID: id, BlogID: blogID, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: &seems, SeverityAfter: &down, StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateDown,
		Reason: reason, Source: "local", ChangedAt: now,
		Notify: uptime.Notification{Notify: kind != "", Kind: kind}}
	ev := uptime.Event{ID: id, BlogID: blogID, CheckType: uptime.CheckTypeHTTP, Severity: down, State: uptime.StateDown,
		StartedAt: now.Add(-time.Minute), Metadata: map[string]any{"http_code": 503, "error_code": 0, "rtt_ms": 40,
			"region": "a", "checked_at": now.Add(-time.Minute).Format(time.RFC3339Nano)}}
	return bus.TransitionMessage{Transition: tr, Event: ev,
		Site: uptime.Site{BlogID: blogID, Bucket: 1, Spec: uptime.CheckSpec{BlogID: blogID, URL: "https://site-" + strconv.FormatInt(blogID, 10) + ".example"}}}
}

// publish stores m on jetmon.deliver.transition as the outbox relay does.
func (w *dlvWorld) publish(m bus.TransitionMessage) {
	w.t.Helper()
	b, err := bus.EncodeTransitionMessage(m)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := bus.NewTransitionPublisher(w.js)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := p.PublishTransition(w.t.Context(), m.Transition.ID, b); err != nil {
		w.t.Fatal(err)
	}
}

// publishJobTwice writes m's webhook deliveries to hooks as a fan-out does
// and publishes each one's job twice: once with its message id, once
// without (as a redelivery, or a copy outside the duplicate window, would
// arrive), so deliverers get the same job at the same time.
func (w *dlvWorld) publishJobTwice(m bus.TransitionMessage, hooks []int64) {
	w.t.Helper()
	eventType, _ := uptime.WebhookEventType(m.Transition.Reason)
	payload, err := deliverer.BuildPayload(deliverer.TransitionMessage(m), eventType)
	if err != nil {
		w.t.Fatal(err)
	}
	f := deliverystore.FanOut{TransitionID: m.Transition.ID, EventID: m.Event.ID, BlogID: m.Transition.BlogID,
		TransitionAt: time.Now(), Now: time.Now()}
	for _, id := range hooks {
		f.Deliveries = append(f.Deliveries, deliverystore.NewDelivery{Kind: uptime.DeliveryWebhook, DestinationID: id,
			EventType: eventType, Payload: payload})
	}
	store, err := deliverystore.New(w.db, deliverystore.Opts{})
	if err != nil {
		w.t.Fatal(err)
	}
	stored, err := store.FanOut(w.t.Context(), f)
	if err != nil {
		w.t.Fatal(err)
	}
	jobs, err := bus.NewJobPublisher(w.js)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range stored.Rows {
		j := bus.Job{DeliveryID: r.ID, Kind: string(r.Kind), DestinationID: r.DestinationID, TransitionID: r.TransitionID}
		data, err := bus.EncodeJob(j)
		if err != nil {
			w.t.Fatal(err)
		}
		if err := jobs.PublishJob(w.t.Context(), j); err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.js.Publish(w.t.Context(), bus.JobSubject(j.Kind, j.DestinationID), data); err != nil {
			w.t.Fatal(err)
		}
	}
}

// streamDrained checks that JETMON_DELIVERY holds no message: every copy of
// every job was settled.
func (w *dlvWorld) streamDrained() error {
	state, err := streamState(w.t.Context(), w.js, bus.StreamDelivery)
	if err == nil && state.Msgs != 0 {
		err = fmt.Errorf("%d messages left in %s", state.Msgs, bus.StreamDelivery)
	}
	return err
}

// addWebhook registers url for every event, signed with dlvSecret.
func (w *dlvWorld) addWebhook(url string) int64 {
	w.t.Helper()
	id, err := registerDemoWebhook(w.t.Context(), w.db, url, dlvSecret)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// deliveryState is one jetmon_deliveries row as the tests read it.
type deliveryState struct {
	id, destination, transition int64
	kind, status                string
	attempt, lastCode           int
}

func (w *dlvWorld) deliveries() ([]deliveryState, error) {
	return queryRows(w.t.Context(), w.db, func(r *sql.Rows) (deliveryState, error) {
		var d deliveryState
		err := r.Scan(&d.id, &d.kind, &d.destination, &d.transition, &d.status, &d.attempt, &d.lastCode)
		return d, err
	}, `SELECT id, kind, destination_id, transition_id, status, attempt, COALESCE(last_status_code, 0)
		FROM jetmon_deliveries ORDER BY id`)
}

// attempts lists delivery id's attempts as "outcome@node".
func (w *dlvWorld) attempts(id int64) []string {
	w.t.Helper()
	out, err := queryRows(w.t.Context(), w.db, func(r *sql.Rows) (string, error) {
		var o, n string
		err := r.Scan(&o, &n)
		return o + "@" + n, err
	}, "SELECT outcome, node_id FROM jetmon_delivery_attempts WHERE delivery_id = ? ORDER BY id", id)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// attemptRecord is one jetmon_delivery_attempts row as the tests read it.
type attemptRecord struct {
	attempt, code int
	response      string
	wait          time.Duration // next_attempt_at - finished_at; -1 when next_attempt_at is NULL
}

// attemptRecords lists delivery id's attempts in order.
func (w *dlvWorld) attemptRecords(id int64) []attemptRecord {
	w.t.Helper()
	out, err := queryRows(w.t.Context(), w.db, func(r *sql.Rows) (attemptRecord, error) {
		var a attemptRecord
		var next sql.NullTime
		var finished time.Time
		err := r.Scan(&a.attempt, &a.code, &a.response, &next, &finished)
		a.wait = -1
		if next.Valid {
			a.wait = next.Time.Sub(finished)
		}
		return a, err
	}, `SELECT attempt, COALESCE(status_code, 0), COALESCE(response, ''), next_attempt_at, finished_at
		FROM jetmon_delivery_attempts WHERE delivery_id = ? ORDER BY id`, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// allSettled checks that want rows exist and none is pending.
func (w *dlvWorld) allSettled(want int) error {
	ds, err := w.deliveries()
	if err != nil {
		return err
	}
	if len(ds) != want {
		return fmt.Errorf("%d delivery rows, want %d", len(ds), want)
	}
	for _, d := range ds {
		if d.status == string(uptime.DeliveryPending) {
			return fmt.Errorf("delivery %d pending at attempt %d", d.id, d.attempt)
		}
	}
	return nil
}

// node is a bare node on a connection of its own (for wiring that needs
// one without running it), closed when the test ends.
func (w *dlvWorld) node(rt *cli.Runtime) *cli.Node {
	w.t.Helper()
	nc, err := cli.ConnectNATS(rt.Config, "test", rt.Logger)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(nc.Close)
	node, err := cli.NewNode(nc, rt.Config.ShutdownTimeout)
	if err != nil {
		w.t.Fatal(err)
	}
	return node
}
