package bus_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func nodeIDs(nodes []uptime.Node) []string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.NodeID
	}
	return ids
}

func presence(t *testing.T, js jetstream.JetStream, id string, stats func() map[string]int64) *bus.Presence {
	t.Helper()
	p, err := bus.NewPresence(js, bus.PresenceOpts{Role: uptime.RoleProber, NodeID: id, Region: "us",
		Version: "test", Capacity: 2, TTL: time.Second, Stats: stats})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPresenceAndDirectory: nodes appear in the directory, a graceful stop
// removes a node at once, and a node whose presence dies without a delete
// disappears when its key expires (the watcher sees the limit marker).
func TestPresenceAndDirectory(t *testing.T) {
	t.Parallel()
	n, js := setup(t, testAssets()) // NodeTTL 1s
	dir, err := bus.NewDirectory(js, bus.DirectoryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	snaps, err := dir.WatchNodes(ctx, uptime.RoleProber)
	if err != nil {
		t.Fatal(err)
	}
	if got := recv(t, snaps, 5*time.Second, "first snapshot"); len(got) != 0 {
		t.Fatalf("first snapshot = %v, want empty", got)
	}

	stopA := run(t, presence(t, js, "a", func() map[string]int64 { return map[string]int64{"sites_held": 3} }).Run)
	crashConn := n.Conn(t) // b's own connection: closing it is b's crash
	run(t, presence(t, newJS(t, crashConn), "b", nil).Run)
	got := recvUntil(t, snaps, 5*time.Second, "a and b", func(s []uptime.Node) bool { return slices.Equal(nodeIDs(s), []string{"a", "b"}) })
	if got[0].Region != "us" || got[0].Capacity != 2 || got[0].Stats["sites_held"] != 3 || got[0].StartedAt.IsZero() {
		t.Errorf("node a = %+v", got[0])
	}

	stopped := time.Now()
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	recvUntil(t, snaps, 500*time.Millisecond, "a gone after a graceful stop", func(s []uptime.Node) bool { return slices.Equal(nodeIDs(s), []string{"b"}) })
	t.Logf("graceful stop seen after %v", time.Since(stopped))

	crashConn.Close()
	crashed := time.Now()
	recvUntil(t, snaps, time.Second+1500*time.Millisecond, "b expired", func(s []uptime.Node) bool { return len(s) == 0 })
	t.Logf("expiry seen %v after the crash (TTL 1s)", time.Since(crashed))

	nodes, err := bus.ListNodes(t.Context(), js)
	if err != nil || len(nodes) != 0 {
		t.Errorf("ListNodes = %v, %v; want none", nodes, err)
	}
	cancel()
	for range snaps { // the channel closes when ctx ends
	}
}

// TestDirectoryHeartbeatsDoNotResend: writes that change only seen_at and
// stats are not sent as new snapshots.
func TestDirectoryHeartbeatsDoNotResend(t *testing.T) {
	t.Parallel()
	_, js := setup(t, testAssets())
	dir, err := bus.NewDirectory(js, bus.DirectoryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := dir.WatchNodes(t.Context(), uptime.RoleProber)
	if err != nil {
		t.Fatal(err)
	}
	run(t, presence(t, js, "a", nil).Run)
	recvUntil(t, snaps, 5*time.Second, "a", func(s []uptime.Node) bool { return len(s) == 1 })
	// Presence writes every 333ms; a second of heartbeats sends nothing.
	select {
	case s := <-snaps:
		t.Fatalf("heartbeat sent a snapshot: %+v", s)
	case <-time.After(time.Second):
	}
	nodes, err := bus.ListNodes(t.Context(), js)
	if err != nil || len(nodes) != 1 || nodes[0].SeenAt.IsZero() {
		t.Errorf("ListNodes = %+v, %v", nodes, err)
	}
}

func TestNewPresenceValidates(t *testing.T) {
	t.Parallel()
	_, js := setup(t, testAssets())
	rows := map[string]bus.PresenceOpts{
		"no node id":        {Role: "prober"},
		"dot in node id":    {Role: "prober", NodeID: "a.b"},
		"wildcard role":     {Role: "*", NodeID: "a"},
		"negative capacity": {Role: "prober", NodeID: "a", Capacity: -1},
	}
	for name, o := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := bus.NewPresence(js, o); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
