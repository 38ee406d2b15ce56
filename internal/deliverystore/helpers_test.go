package deliverystore_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/deliverystore"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

// world is one test's database and store.
type world struct {
	t   *testing.T
	db  *sql.DB
	dsn string
	s   *deliverystore.Store
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, dsn := testenv.NewDatabase(t)
	return &world{t: t, db: db, dsn: dsn, s: newStore(t, db)}
}

func newStore(t *testing.T, db *sql.DB) *deliverystore.Store {
	t.Helper()
	s, err := deliverystore.New(db, deliverystore.Opts{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// otherStore is a second store on its own pool: another deliverer.
func (w *world) otherStore() *deliverystore.Store {
	w.t.Helper()
	db, err := sqlstore.Open(w.t.Context(), w.dsn, sqlstore.PoolOpts{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = db.Close() })
	return newStore(w.t, db)
}

func (w *world) exec(query string, args ...any) int64 {
	w.t.Helper()
	res, err := w.db.ExecContext(w.t.Context(), query, args...)
	if err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.QueryRowContext(w.t.Context(), query, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// fanOut writes one pending delivery of kind to destination for
// transition and returns its row.
func (w *world) fanOut(kind uptime.DeliveryKind, destination, transition int64) deliverystore.Row {
	w.t.Helper()
	res, err := w.s.FanOut(w.t.Context(), deliverystore.FanOut{
		TransitionID: transition, EventID: 77, BlogID: 42, TransitionAt: t0, Now: t0,
		Deliveries: []deliverystore.NewDelivery{{Kind: kind, DestinationID: destination, EventType: "event.opened",
			Payload: []byte(`{"v":1}`)}},
	})
	if err != nil || len(res.Rows) != 1 {
		w.t.Fatalf("fan out: %v %+v", err, res)
	}
	return res.Rows[0]
}

func (w *world) claim(s *deliverystore.Store, r deliverystore.Row, node string, now time.Time) deliverystore.ClaimResult {
	w.t.Helper()
	res, err := s.Claim(w.t.Context(), deliverystore.ClaimRequest{DeliveryID: r.ID, Generation: r.Generation,
		NodeID: node, Now: now, Lease: time.Minute, RateCap: r.Kind == uptime.DeliveryAlert})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func (w *world) row(id int64) deliverystore.Row {
	w.t.Helper()
	r, err := w.s.Row(w.t.Context(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// attempts lists a delivery's attempt outcomes in order.
func (w *world) attempts(id int64) []string {
	w.t.Helper()
	rows, err := w.db.QueryContext(w.t.Context(),
		"SELECT outcome FROM jetmon_delivery_attempts WHERE delivery_id = ? ORDER BY id", id)
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}
