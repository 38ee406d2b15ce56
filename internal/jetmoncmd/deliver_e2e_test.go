package jetmoncmd

import (
	"context"
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
	w := newDlvWorld(t, map[string]string{
		"MIN_CHECK_INTERVAL_SEC": "5", "TIME_BETWEEN_CHECKS_SEC": "1", "NUM_OF_CHECKS": "2", "BUCKET_TOTAL": "4",
		"SITE_SYNC_INTERVAL_SEC": "1",
	})
	fleet := startDlvFleet(t)
	const blog = 1
	if _, err := w.db.ExecContext(t.Context(), `INSERT INTO jetpack_monitor_sites (blog_id, bucket_no, monitor_url,
		monitor_active, check_interval) VALUES (?, 0, ?, 1, 0)`, blog, fleet.URL("site-1")); err != nil {
		t.Fatal(err)
	}
	demo := w.start("demo", func(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
		db, err := openDB(ctx, rt, node)
		if err != nil {
			return err
		}
		_, err = addDemoReceiver(ctx, rt, node, db)
		return err
	})
	part, _ := demo.node.Part("demo-receiver")
	receiver, ok := part.(*demoReceiver)
	if !ok {
		t.Fatalf("demo-receiver part is %T", part)
	}
	if _, err := w.db.ExecContext(t.Context(), `INSERT INTO jetmon_alert_contacts (label, transport, destination,
		min_severity) VALUES ('ops', 'email', '{"address":"ops@example.com"}', 4)`); err != nil {
		t.Fatal(err)
	}
	w.start("c1", addCoordinator)
	w.start("p1", cli.AddProber)
	w.start("d1", addDeliverer)
	w.start("d2", addDeliverer)

	dlvWait(t, dlvBudget, "the site is checked", func() error { return w.siteChecked(blog) })
	if err := fleet.Set("site-1", testsite.Behaviour{Kind: testsite.KindStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	dlvWait(t, dlvBudget, "the outage is confirmed", func() error { return w.wantReasons(blog, "opened", "verifier_confirmed") })
	if err := fleet.Set("site-1", testsite.Behaviour{}); err != nil {
		t.Fatal(err)
	}
	dlvWait(t, dlvBudget, "the site recovers", func() error {
		return w.wantReasons(blog, "opened", "verifier_confirmed", "verifier_cleared")
	})
	dlvWait(t, dlvBudget, "3 webhook and 2 alert deliveries delivered", func() error {
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

// siteChecked reports whether blog has been checked.
func (w *dlvWorld) siteChecked(blog int64) error {
	var n int
	err := w.db.QueryRowContext(w.t.Context(), `SELECT COUNT(*) FROM jetpack_monitor_sites
		WHERE blog_id = ? AND last_checked_at IS NOT NULL`, blog).Scan(&n)
	if err == nil && n == 0 {
		err = fmt.Errorf("site %d not checked yet", blog)
	}
	return err
}

// wantReasons checks blog's transitions' reasons, in order.
func (w *dlvWorld) wantReasons(blog int64, want ...string) error {
	rows, err := w.db.QueryContext(w.t.Context(),
		"SELECT reason FROM jetmon_event_transitions WHERE blog_id = ? AND reason <> 'maintenance_swallowed' ORDER BY id", blog)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	var got []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return err
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("transitions %v, want %v", got, want)
	}
	return nil
}

// startDlvFleet runs a testsite fleet until the test ends.
func startDlvFleet(t *testing.T) *testsite.Fleet {
	t.Helper()
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", CADir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	runDlv(t, fleet.Run)
	if err := fleet.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	return fleet
}

// runDlv runs run until the test ends and checks it returned cleanly.
func runDlv(t *testing.T, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}
