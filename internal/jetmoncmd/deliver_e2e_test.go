package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"

	"github.com/jetmon-mesh/jetmon/deliverer/email"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

// TestDeliverThroughCoordinator runs the real path of issue 6's check: a
// coordinator, a prober and two deliverers; a site goes down and comes
// back; the coordinator's outbox relay publishes each transition, and the
// demo's webhook receiver (added as the demo adds it) gets each one exactly
// once with a valid signature, while an email contact (stub transport)
// gets the down and the recovery.
func TestDeliverThroughCoordinator(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t, checkingEnv(4), map[string]string{"NUM_OF_CHECKS": "2"})
	fleet := startFleet(t, false)
	const blog = 1
	w.addActiveSite(blog, 0, fleet.URL(siteName(blog)), 0)
	addReceiver := func(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
		db, err := openDB(ctx, rt, node)
		if err != nil {
			return err
		}
		_, err = addDemoReceiver(ctx, rt, node, db)
		return err
	}
	demo := w.start(addReceiver, "demo", "a", nil)
	part, _ := demo.cn.Part("demo-receiver")
	receiver, ok := part.(*demoReceiver)
	if !ok {
		t.Fatalf("demo-receiver part is %T", part)
	}
	w.exec(`INSERT INTO jetmon_alert_contacts (label, transport, destination, min_severity)
		VALUES ('ops', 'email', '{"address":"ops@example.com"}', 4)`)
	w.start(addCoordinator, "c1", "a", nil)
	w.start(cli.AddProber, "p1", "a", nil)
	w.startDeliverer("d1")
	w.startDeliverer("d2")

	waitFor(t, stepBudget, "the site is checked", func() error { return w.siteChecked(blog) })
	if err := fleet.Set("site-1", testsite.Behaviour{Kind: testsite.KindStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stepBudget, "the outage is confirmed", func() error { return w.wantReasons(blog, "opened", "verifier_confirmed") })
	if err := fleet.Set("site-1", testsite.Behaviour{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stepBudget, "the site recovers", func() error {
		return w.wantReasons(blog, "opened", "verifier_confirmed", "verifier_cleared")
	})
	waitFor(t, stepBudget, "3 webhook and 2 alert deliveries delivered", func() error {
		ds, err := w.deliveries()
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, d := range ds {
			count[d.kind+"/"+d.status]++
		}
		if count["webhook/delivered"] != 3 || count["alert/delivered"] != 2 || len(ds) != 5 {
			return fmt.Errorf("deliveries %v", count)
		}
		return nil
	})
	if deliveries, duplicates, rejected := receiver.stats(); deliveries != 3 || duplicates != 0 || rejected != 0 {
		t.Errorf("receiver saw %d deliveries, %d duplicates, %d bad signatures; want 3, 0, 0",
			deliveries, duplicates, rejected)
	}
	var stubbed int
	if err := w.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM jetmon_deliveries WHERE kind = 'alert'
		AND last_status_code = 250 AND last_response = ?`, email.StubResponse).Scan(&stubbed); err != nil || stubbed != 2 {
		t.Errorf("%d alert deliveries answered by the stub transport (%v), want 2", stubbed, err)
	}
}

// wantReasons checks blog's transitions' reasons, in order.
func (w *dlvWorld) wantReasons(blog int64, want ...string) error {
	got, err := queryRows(w.t.Context(), w.db, func(r *sql.Rows) (string, error) {
		var reason string
		err := r.Scan(&reason)
		return reason, err
	}, "SELECT reason FROM jetmon_event_transitions WHERE blog_id = ? AND reason <> 'maintenance_swallowed' ORDER BY id", blog)
	if err == nil && !slices.Equal(got, want) {
		err = fmt.Errorf("transitions %v, want %v", got, want)
	}
	return err
}
