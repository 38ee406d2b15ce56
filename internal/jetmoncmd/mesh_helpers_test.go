package jetmoncmd

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// testBucketTotal is the mesh tests' BUCKET_TOTAL.
const testBucketTotal = 30

// testRollout is the rollout range of testBucketTotal buckets.
var testRollout = uptime.BucketRange{Min: 0, Max: testBucketTotal - 1}

// mesh is one mesh test's world: a fresh database, a NATS server or
// cluster, a site fleet, and a client connection of the test's own.
type mesh struct {
	testWorld
	nc    *nats.Conn
	js    jetstream.JetStream
	fleet *testsite.Fleet
}

// newMesh starts a single-node NATS server for the test.
func newMesh(t *testing.T) *mesh {
	t.Helper()
	ns := testenv.StartNATS(t)
	return newMeshOn(t, ns.URL(), ns.Conn(t))
}

// newMeshOn builds the test's world on an already started NATS (natsURL
// comma-separated for a cluster).
func newMeshOn(t *testing.T, natsURL string, nc *nats.Conn) *mesh {
	t.Helper()
	env := map[string]string{"HISTORY_SUCCESS_SAMPLE_SEC": "1"} // every success at a 5 s interval is a history row
	return &mesh{testWorld: newTestWorld(t, natsURL, slog.LevelInfo, checkingEnv(testBucketTotal), env),
		nc: nc, js: newJS(t, nc), fleet: startFleet(t, false)}
}

// addSite inserts an active site of blogID in bucket, checked every
// MIN_CHECK_INTERVAL (check_interval 0), pointing at the fleet.
func (m *mesh) addSite(blogID int64, bucket int) {
	m.t.Helper()
	m.addActiveSite(blogID, bucket, m.fleet.URL(siteName(blogID)), 0)
}

// addSites inserts blog ids 1..n, blog i in bucket (i-1) mod testBucketTotal,
// and returns their buckets by blog id.
func (m *mesh) addSites(n int) map[int64]int {
	m.t.Helper()
	buckets := make(map[int64]int, n)
	for i := range n {
		blogID, bucket := int64(i+1), i%testBucketTotal
		m.addSite(blogID, bucket)
		buckets[blogID] = bucket
	}
	return buckets
}

// assignments lists JETMON_ASSIGNMENTS.
func (m *mesh) assignments() (map[string]uptime.Assignment, error) {
	a, err := bus.NewAssignments(m.js, bus.AssignmentsOpts{})
	if err != nil {
		return nil, err
	}
	return a.List(m.t.Context())
}

// coveredBy checks that exactly the probers ids hold assignments and that
// they cover every bucket of the rollout range exactly once.
func coveredBy(as map[string]uptime.Assignment, ids ...string) error {
	if got := slices.Sorted(maps.Keys(as)); !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
		return fmt.Errorf("assignments of %v, want %v", got, ids)
	}
	owners := make([]int, testRollout.Len())
	for id, a := range as {
		for _, b := range a.Buckets() {
			if !testRollout.Contains(b) {
				return fmt.Errorf("%s owns bucket %d outside %v", id, b, testRollout)
			}
			owners[b-testRollout.Min]++
		}
	}
	for i, n := range owners {
		if n != 1 {
			return fmt.Errorf("bucket %d has %d owners: %v", testRollout.Min+i, n, as)
		}
	}
	return nil
}

// watermark is the coordinator consumer's committed stream sequence (0
// before the first commit).
func (m *mesh) watermark() (uint64, error) {
	var seq uint64
	err := m.db.QueryRowContext(m.t.Context(),
		"SELECT last_seq FROM jetmon_ingest_progress WHERE consumer = ?", bus.ConsumerCoordinator).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// blogValue is one row of a per-blog query.
type blogValue[T any] struct {
	blog  int64
	value T
}

// byBlog runs a query of blog_id and one value per row, and returns the
// values by blog id.
func byBlog[T any](m *mesh, query string) (map[int64]T, error) {
	rows, err := queryRows(m.t.Context(), m.db, func(r *sql.Rows) (blogValue[T], error) {
		var v blogValue[T]
		err := r.Scan(&v.blog, &v.value)
		return v, err
	}, query)
	out := make(map[int64]T, len(rows))
	for _, r := range rows {
		out[r.blog] = r.value
	}
	return out, err
}

// checks sums the roll-ups' checks by blog id.
func (m *mesh) checks() (map[int64]int64, error) {
	return byBlog[int64](m, "SELECT blog_id, SUM(checks) FROM jetmon_check_rollups_hourly GROUP BY blog_id")
}

// lastChecked is each site's last_checked_at (sites never checked are left out).
func (m *mesh) lastChecked() (map[int64]time.Time, error) {
	return byBlog[time.Time](m, "SELECT blog_id, last_checked_at FROM jetpack_monitor_sites WHERE last_checked_at IS NOT NULL")
}

// fence reads the fencing row: the newest leader's epoch and node id.
func (m *mesh) fence() (epoch uint64, holder string, err error) {
	err = m.db.QueryRowContext(m.t.Context(),
		"SELECT epoch, holder FROM jetmon_coordinator_lease WHERE name = 'coordinator'").Scan(&epoch, &holder)
	return epoch, holder, err
}

// waitLeader waits until id holds the fencing row with an epoch above
// after, and returns that epoch.
func (m *mesh) waitLeader(timeout time.Duration, id string, after uint64) uint64 {
	m.t.Helper()
	var epoch uint64
	waitFor(m.t, timeout, id+" leads", func() error {
		e, holder, err := m.fence()
		if err != nil {
			return err
		}
		if holder != id || e <= after {
			return fmt.Errorf("fence held by %s at epoch %d", holder, e)
		}
		epoch = e
		return nil
	})
	return epoch
}

// results is the state of stream JETMON_RESULTS.
func (m *mesh) results() (jetstream.StreamState, error) {
	return streamState(m.t.Context(), m.js, bus.StreamResults)
}

// waitWatermark waits until the ingest watermark reaches seq.
func (m *mesh) waitWatermark(timeout time.Duration, seq uint64) time.Duration {
	m.t.Helper()
	return waitFor(m.t, timeout, fmt.Sprintf("results committed up to seq %d", seq), func() error {
		wm, err := m.watermark()
		if err == nil && wm < seq {
			err = fmt.Errorf("watermark %d", wm)
		}
		return err
	})
}

// ackPending is how many results the coordinator consumer has delivered
// and not yet had acked.
func (m *mesh) ackPending() (int, error) {
	cons, err := m.js.Consumer(m.t.Context(), bus.StreamResults, bus.ConsumerCoordinator)
	if err != nil {
		return 0, err
	}
	info, err := cons.Info(m.t.Context())
	if err != nil {
		return 0, err
	}
	return info.NumAckPending, nil
}

// repeatedResults reads the whole results stream and returns, by
// Nats-Msg-Id, the checks it holds more than once with their sequences.
func (m *mesh) repeatedResults() (map[string][]uint64, error) {
	cons, err := m.js.OrderedConsumer(m.t.Context(), bus.StreamResults, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	state, err := m.results()
	if err != nil {
		return nil, err
	}
	seen := map[string][]uint64{}
	for range state.Msgs {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return nil, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return nil, err
		}
		r, err := bus.DecodeResult(msg.Data())
		if err != nil {
			return nil, err
		}
		id := bus.ResultMsgID(r.NodeID, r.BlogID, r.CheckedAt.UnixNano())
		seen[id] = append(seen[id], md.Sequence.Stream)
	}
	maps.DeleteFunc(seen, func(_ string, s []uint64) bool { return len(s) < 2 })
	return seen, nil
}

// wantDeliveryAckWait checks the ack wait of the consumers the deliverers
// pull from, as the coordinators created them: 2 × DELIVERY_TIMEOUT_SEC, so
// a job is not redelivered while its first deliverer still waits on the
// receiver.
func (m *mesh) wantDeliveryAckWait(want time.Duration) {
	m.t.Helper()
	consumers := map[string][]string{bus.StreamDelivery: bus.DeliveryConsumers(),
		bus.StreamDeadLetters: {bus.ConsumerDeadLetters}}
	for stream, names := range consumers {
		for _, name := range names {
			c, err := m.js.Consumer(m.t.Context(), stream, name)
			if err != nil {
				m.t.Fatalf("consumer %s/%s: %v", stream, name, err)
			}
			if got := c.CachedInfo().Config.AckWait; got != want {
				m.t.Errorf("consumer %s/%s: ack wait %v, want %v", stream, name, got, want)
			}
		}
	}
}
