package deliverystore_test

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/deliverystore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestFanOutIsIdempotent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	down := uptime.SeverityDown
	f := deliverystore.FanOut{
		TransitionID: 9001, EventID: 77, BlogID: 42, TransitionAt: t0.Add(-time.Second), Now: t0,
		Deliveries: []deliverystore.NewDelivery{
			{Kind: uptime.DeliveryWebhook, DestinationID: 1, EventType: "event.opened", Payload: []byte(`{"v":1,"type":"event.opened"}`)},
			{Kind: uptime.DeliveryAlert, DestinationID: 1, EventType: "alert.opened", Severity: &down, Payload: []byte(`{"v":1}`)},
			{Kind: uptime.DeliveryWPCOM, EventType: "wpcom.status_change", Payload: []byte(`{"v":1}`)},
		},
		Audits: []deliverystore.Audit{{EventType: "alert_suppressed", Detail: "alert contact 2 suppressed: cooldown",
			Metadata: map[string]any{"transition_id": int64(9001), "kind": "alert", "destination_id": int64(2)}}},
	}
	res, err := w.s.FanOut(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	first := res.Rows
	wantCreated := map[uptime.DeliveryKind]int{uptime.DeliveryWebhook: 1, uptime.DeliveryAlert: 1, uptime.DeliveryWPCOM: 1}
	if !maps.Equal(res.Created, wantCreated) || !res.Audited {
		t.Errorf("first fan-out created %v, audited %v; want %v, audited", res.Created, res.Audited, wantCreated)
	}
	w.exec("UPDATE jetmon_deliveries SET status = 'delivered' WHERE id = ?", first[0].ID)
	// Repeated, and with a webhook that matched only since: that row is new.
	f.Deliveries = append(f.Deliveries, deliverystore.NewDelivery{Kind: uptime.DeliveryWebhook, DestinationID: 2,
		EventType: "event.opened", Payload: []byte(`{"v":1}`)})
	res, err = w.s.FanOut(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	again := res.Rows
	if want := map[uptime.DeliveryKind]int{uptime.DeliveryWebhook: 1, uptime.DeliveryAlert: 0, uptime.DeliveryWPCOM: 0}; !maps.Equal(res.Created, want) || res.Audited {
		t.Errorf("repeated fan-out created %v, audited %v; want %v, not audited", res.Created, res.Audited, want)
	}
	if len(first) != 3 || len(again) != 4 {
		t.Fatalf("rows %d then %d, want 3 then 4", len(first), len(again))
	}
	for i := range first {
		if first[i].ID != again[i].ID || again[i].Kind != f.Deliveries[i].Kind {
			t.Errorf("row %d: %+v then %+v", i, first[i].Delivery, again[i].Delivery)
		}
	}
	if again[0].Status != uptime.DeliveryDelivered || again[1].Status != uptime.DeliveryPending {
		t.Errorf("statuses %s, %s: a repeated fan-out must return the stored rows", again[0].Status, again[1].Status)
	}
	r := again[1]
	if r.Severity == nil || *r.Severity != down || !r.TransitionAt.Equal(t0.Add(-time.Second)) ||
		!r.NextAttemptAt.Equal(t0) || r.EventID != 77 || r.BlogID != 42 || r.Attempt != 0 || r.Generation != 0 {
		t.Errorf("alert row = %+v", r)
	}
	if n := w.count("SELECT COUNT(*) FROM jetmon_deliveries"); n != 4 {
		t.Errorf("%d rows in jetmon_deliveries", n)
	}
	if n := w.count("SELECT COUNT(*) FROM jetmon_audit_log WHERE event_type = 'alert_suppressed' AND event_id = 77"); n != 1 {
		t.Errorf("%d audit rows, want 1 after two fan-outs", n)
	}
	if res, err := w.s.FanOut(t.Context(), deliverystore.FanOut{TransitionID: 9002, EventID: 77, BlogID: 42, Now: t0}); err != nil || res.Rows != nil || len(res.Created) != 0 {
		t.Errorf("empty fan-out: %+v %v", res, err)
	}
}

// TestClaimRace: two deliverers (two pools) claim the same deliveries at
// once; exactly one wins each.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	stores := []*deliverystore.Store{w.s, w.otherStore()}
	const n = 20
	for i := range n {
		row := w.fanOut(uptime.DeliveryWebhook, 1, int64(100+i))
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won []string
		)
		for j, s := range stores {
			wg.Go(func() {
				node := []string{"d1", "d2"}[j]
				if res := w.claim(s, row, node, t0.Add(time.Second)); res.Outcome == deliverystore.Claimed {
					mu.Lock()
					won = append(won, node)
					mu.Unlock()
				} else if res.Outcome != deliverystore.Busy {
					t.Errorf("loser outcome %v, want Busy", res.Outcome)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("delivery %d claimed by %v, want exactly one", row.ID, won)
		}
		if got := w.attempts(row.ID); !slices.Equal(got, []string{"sending"}) {
			t.Errorf("attempts %q", got)
		}
		r := w.row(row.ID)
		if r.ClaimedBy != won[0] || r.Attempt != 1 || !r.ClaimUntil.Equal(t0.Add(time.Minute+time.Second)) {
			t.Errorf("claimed row %+v", r)
		}
	}
}

func TestClaimOutcomes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	row := w.fanOut(uptime.DeliveryWebhook, 1, 1)
	if res := w.claim(w.s, row, "d1", t0); res.Outcome != deliverystore.Claimed || res.AttemptID == 0 {
		t.Fatalf("first claim %+v", res)
	}
	busy := w.claim(w.s, row, "d2", t0.Add(10*time.Second))
	if busy.Outcome != deliverystore.Busy || busy.RetryIn != 50*time.Second {
		t.Errorf("claim under a lease %+v, want Busy for 50s", busy)
	}
	// A crashed claimant's lease expires: another deliverer takes over.
	takeover := w.claim(w.s, row, "d2", t0.Add(61*time.Second))
	if takeover.Outcome != deliverystore.Claimed || takeover.Row.Attempt != 2 {
		t.Fatalf("claim after the lease %+v", takeover)
	}
	if got := w.attempts(row.ID); !slices.Equal(got, []string{"sending", "sending"}) {
		t.Errorf("attempts %q: the lost attempt stays sending", got)
	}
	owned, err := w.s.Finish(t.Context(), deliverystore.Finish{DeliveryID: row.ID, AttemptID: takeover.AttemptID,
		NodeID: "d1", Outcome: "retry", Status: uptime.DeliveryPending, NextAttemptAt: t0.Add(5 * time.Minute),
		Now: t0.Add(62 * time.Second)})
	if err != nil || owned {
		t.Errorf("a retry recorded by a node without the lease: owned %v, %v", owned, err)
	}
	owned, err = w.s.Finish(t.Context(), deliverystore.Finish{DeliveryID: row.ID, AttemptID: takeover.AttemptID,
		NodeID: "d2", Outcome: "retry", Status: uptime.DeliveryPending, StatusCode: 503, Response: "busy",
		Error: "status 503", NextAttemptAt: t0.Add(5 * time.Minute), Now: t0.Add(62 * time.Second)})
	if err != nil || !owned {
		t.Fatalf("retry by the lease holder: owned %v, %v", owned, err)
	}
	r := w.row(row.ID)
	if r.ClaimedBy != "" || !r.ClaimUntil.IsZero() || r.LastStatusCode != 503 || r.LastResponse != "busy" ||
		!r.NextAttemptAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("row after a retry %+v", r)
	}
	early := w.claim(w.s, r, "d1", t0.Add(2*time.Minute))
	if early.Outcome != deliverystore.Busy || early.RetryIn != 3*time.Minute {
		t.Errorf("early claim %+v, want Busy for 3m", early)
	}
	stale := r
	stale.Generation = 5
	if res := w.claim(w.s, stale, "d1", t0.Add(time.Hour)); res.Outcome != deliverystore.Settled {
		t.Errorf("claim of another generation %+v", res)
	}
	if _, err := w.s.Claim(t.Context(), deliverystore.ClaimRequest{DeliveryID: 999, Now: t0}); err != nil {
		t.Errorf("claim of a missing row: %v", err)
	}
}

func TestFinishDeferredRefundsTheAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	row := w.fanOut(uptime.DeliveryWPCOM, 0, 1)
	c := w.claim(w.s, row, "d1", t0)
	_, err := w.s.Finish(t.Context(), deliverystore.Finish{DeliveryID: row.ID, AttemptID: c.AttemptID, NodeID: "d1",
		Outcome: "deferred", Status: uptime.DeliveryPending, Error: "breaker open", Refund: true,
		NextAttemptAt: t0.Add(30 * time.Second), Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if r := w.row(row.ID); r.Attempt != 0 || r.Status != uptime.DeliveryPending {
		t.Errorf("row after a deferral %+v, want attempt 0", r)
	}
	c = w.claim(w.s, w.row(row.ID), "d1", t0.Add(31*time.Second))
	if _, err := w.s.Finish(t.Context(), deliverystore.Finish{DeliveryID: row.ID, AttemptID: c.AttemptID, NodeID: "other",
		Outcome: "delivered", Status: uptime.DeliveryDelivered, StatusCode: 200, Now: t0.Add(32 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	r := w.row(row.ID)
	if r.Status != uptime.DeliveryDelivered || r.Attempt != 1 || !r.DeliveredAt.Equal(t0.Add(32*time.Second)) {
		t.Errorf("delivered row %+v: a success is recorded whoever holds the lease", r)
	}
	if got := w.attempts(row.ID); !slices.Equal(got, []string{"deferred", "delivered"}) {
		t.Errorf("attempts %q", got)
	}
}

// TestRateCapAcrossStores: max_per_hour holds when two deliverers claim a
// contact's deliveries at once.
func TestRateCapAcrossStores(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	contact := w.exec(`INSERT INTO jetmon_alert_contacts (label, transport, destination, max_per_hour)
		VALUES ('ops', 'email', '{"address":"ops@example.com"}', 3)`)
	const n = 8
	rows := make([]deliverystore.Row, n)
	for i := range rows {
		rows[i] = w.fanOut(uptime.DeliveryAlert, contact, int64(i+1))
	}
	stores := []*deliverystore.Store{w.s, w.otherStore()}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[deliverystore.ClaimOutcome]int{}
	)
	for i, r := range rows {
		wg.Go(func() {
			res := w.claim(stores[i%2], r, []string{"d1", "d2"}[i%2], t0)
			mu.Lock()
			outcomes[res.Outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if outcomes[deliverystore.Claimed] != 3 || outcomes[deliverystore.RateLimited] != 5 {
		t.Fatalf("outcomes %v, want 3 claimed and 5 rate-limited", outcomes)
	}
	limited := w.count(`SELECT COUNT(*) FROM jetmon_deliveries WHERE status = 'abandoned' AND last_status_code = 429
		AND last_response = ?`, "rate-limited: contact 1 exceeded max_per_hour=3")
	if limited != 5 {
		t.Errorf("%d rows abandoned with the rate-limit note, want 5", limited)
	}
	// An hour later the window has room again.
	later := w.fanOut(uptime.DeliveryAlert, contact, 100)
	if res := w.claim(w.s, later, "d1", t0.Add(time.Hour+time.Second)); res.Outcome != deliverystore.Claimed {
		t.Errorf("claim an hour later: %v", res.Outcome)
	}
}

// TestRetryKeepsAttemptHistory: a manual retry resets the row to a fresh
// budget with a new generation and keeps every attempt.
func TestRetryKeepsAttemptHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	row := w.fanOut(uptime.DeliveryWebhook, 1, 1)
	if _, _, err := w.s.Retry(t.Context(), row.ID, t0); !errors.Is(err, deliverystore.ErrNotRetryable) {
		t.Fatalf("retry of a pending row: %v", err)
	}
	c := w.claim(w.s, row, "d1", t0)
	if _, err := w.s.Finish(t.Context(), deliverystore.Finish{DeliveryID: row.ID, AttemptID: c.AttemptID, NodeID: "d1",
		Outcome: "abandoned", Status: uptime.DeliveryAbandoned, StatusCode: 404, Response: "no such hook", Now: t0}); err != nil {
		t.Fatal(err)
	}
	before, after, err := w.s.Retry(t.Context(), row.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if before.Status != uptime.DeliveryAbandoned || before.LastStatusCode != 404 {
		t.Errorf("before = %+v", before)
	}
	if after.Status != uptime.DeliveryPending || after.Attempt != 0 || after.Generation != 1 || after.LastStatusCode != 0 ||
		after.LastResponse != "" || !after.LastAttemptAt.IsZero() || !after.NextAttemptAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after = %+v", after)
	}
	if res := w.claim(w.s, row, "d1", t0.Add(2*time.Hour)); res.Outcome != deliverystore.Settled {
		t.Errorf("claim with the old generation: %v", res.Outcome)
	}
	c = w.claim(w.s, after, "d2", t0.Add(2*time.Hour))
	if c.Outcome != deliverystore.Claimed || c.Row.Attempt != 1 {
		t.Fatalf("claim of the retried row %+v", c)
	}
	if got := w.attempts(row.ID); !slices.Equal(got, []string{"abandoned", "sending"}) {
		t.Errorf("attempts %q, want the first kept", got)
	}
	if _, _, err := w.s.Retry(t.Context(), 999, t0); !errors.Is(err, deliverystore.ErrNotFound) {
		t.Errorf("retry of a missing row: %v", err)
	}
}

func TestUndoRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	row := w.fanOut(uptime.DeliveryWebhook, 1, 1)
	c := w.claim(w.s, row, "d1", t0)
	if _, err := w.s.Finish(t.Context(), deliverystore.Finish{DeliveryID: row.ID, AttemptID: c.AttemptID, NodeID: "d1",
		Outcome: "abandoned", Status: uptime.DeliveryAbandoned, StatusCode: 500, Response: "boom", Now: t0}); err != nil {
		t.Fatal(err)
	}
	before, _, err := w.s.Retry(t.Context(), row.ID, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.s.UndoRetry(t.Context(), before); err != nil {
		t.Fatal(err)
	}
	r := w.row(row.ID)
	if r.Status != uptime.DeliveryAbandoned || r.Attempt != 1 || r.LastStatusCode != 500 || r.LastResponse != "boom" ||
		r.Generation != 1 {
		t.Errorf("row after undo %+v, want abandoned as before at generation 1", r)
	}
}

func TestRecordDeadLetterIsIdempotent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	row := w.fanOut(uptime.DeliveryWebhook, 1, 1)
	d := deliverystore.DeadLetter{Stream: "JETMON_DELIVERY", StreamSeq: 41, Consumer: "webhook",
		Subject: "jetmon.deliver.webhook.1", Deliveries: 20, Reason: "max deliveries",
		Header: map[string][]string{"Nats-Msg-Id": {"delivery-1-0"}}, Payload: []byte(`{"v":1}`), PublishedAt: t0,
		DeliveryID: row.ID, AbandonNote: "dead letter: 20 deliveries", Now: t0}
	for i, want := range []bool{true, false} {
		inserted, abandoned, err := w.s.RecordDeadLetter(t.Context(), d)
		if err != nil || inserted != want || abandoned != want {
			t.Fatalf("record %d: inserted %v abandoned %v (%v), want %v", i, inserted, abandoned, err, want)
		}
	}
	if n := w.count("SELECT COUNT(*) FROM jetmon_dead_letters WHERE stream_seq = 41 AND delivery_id = ?", row.ID); n != 1 {
		t.Errorf("%d dead-letter rows", n)
	}
	if r := w.row(row.ID); r.Status != uptime.DeliveryAbandoned || r.LastResponse != "dead letter: 20 deliveries" {
		t.Errorf("row %+v", r)
	}
	gone := deliverystore.DeadLetter{Stream: "JETMON_DELIVERY", StreamSeq: 42, Consumer: "fanout", Reason: "gone"}
	if inserted, _, err := w.s.RecordDeadLetter(t.Context(), gone); err != nil || !inserted {
		t.Errorf("a dead letter without its original: %v %v", inserted, err)
	}
}

func TestDestinations(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.exec(`INSERT INTO jetmon_webhooks (url, active, events, site_filter, state_filter, secret, secret_preview,
		previous_secret, previous_secret_expires_at, owner_tenant_id)
		VALUES ('https://a.example/hook', 1, '["event.opened"]', '{"site_ids":[42]}', '{"states":["Down"]}',
		'whsec_new', 'wnew', 'whsec_old', ?, 't1')`, t0)
	w.exec(`INSERT INTO jetmon_webhooks (url, active, secret) VALUES ('https://b.example/hook', 0, 'whsec_b')`)
	w.exec(`INSERT INTO jetmon_webhooks (url, active, events, secret) VALUES ('https://c.example/hook', 1, '{"bad":1}', 'whsec_c')`)
	w.exec(`INSERT INTO jetmon_alert_contacts (label, transport, destination, site_filter, min_severity, max_per_hour)
		VALUES ('ops', 'pagerduty', '{"integration_key":"k1"}', '{"site_ids":[1,2]}', 2, 0)`)
	w.exec(`INSERT INTO jetmon_site_tenants (tenant_id, blog_id) VALUES ('t2', 42), ('t1', 42)`)

	hooks, err := w.s.ActiveWebhooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 {
		t.Fatalf("active webhooks %+v, want the decodable active one", hooks)
	}
	h := hooks[0]
	if h.Secret != "whsec_new" || h.PreviousSecret != "whsec_old" || !h.PreviousSecretExpiresAt.Equal(t0) ||
		!slices.Equal(h.Events, []string{"event.opened"}) || !slices.Equal(h.SiteIDs, []int64{42}) ||
		!slices.Equal(h.States, []uptime.State{uptime.StateDown}) || h.OwnerTenantID != "t1" {
		t.Errorf("webhook = %+v", h)
	}
	inactive, err := w.s.Webhook(t.Context(), 2)
	if err != nil || inactive.Active || inactive.Secret != "whsec_b" {
		t.Errorf("webhook 2 = %+v, %v", inactive, err)
	}
	if _, err := w.s.Webhook(t.Context(), 99); !errors.Is(err, deliverystore.ErrNotFound) {
		t.Errorf("missing webhook: %v", err)
	}
	contacts, err := w.s.ActiveAlertContacts(t.Context())
	if err != nil || len(contacts) != 1 {
		t.Fatalf("contacts %+v, %v", contacts, err)
	}
	c := contacts[0]
	if c.Transport != uptime.TransportPagerDuty || c.Destination["integration_key"] != "k1" ||
		c.MinSeverity != uptime.SeverityDegraded || !slices.Equal(c.SiteIDs, []int64{1, 2}) || c.MaxPerHour != 0 {
		t.Errorf("contact = %+v", c)
	}
	if _, err := w.s.AlertContact(t.Context(), 99); !errors.Is(err, deliverystore.ErrNotFound) {
		t.Errorf("missing contact: %v", err)
	}
	tenants, err := w.s.SiteTenants(t.Context(), 42)
	if err != nil || !slices.Equal(tenants, []string{"t1", "t2"}) {
		t.Errorf("tenants %v, %v", tenants, err)
	}
}
