package natsd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/meshstatus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Seed of the mesh the api user reads: a leader, one live prober with an
// assignment, and one check result.
const (
	seedLeader = "coordinator-us-1"
	seedProber = "prober-eu-1"
	seedRegion = "eu"
)

// bulkEntries values of bulkSize bytes fill each listed bucket past 2 MiB:
// the server asks a push consumer for a flow-control reply once that much
// is unanswered (a 32nd of its default 64 MiB max_pending) and stalls it
// at twice that, so listing these needs the flow-control replies. They do
// not decode and are left out of the view.
const (
	bulkEntries = 24
	bulkSize    = 100 << 10
)

// seedRollout is the bucket range the mesh view compares against; the
// seeded prober owns 0-4.
var seedRollout = uptime.BucketRange{Min: 0, Max: 9}

// TestDeployRolePermissions runs the bus's presence, mesh-status and
// command code as each role's user against the assets EnsureAssets
// creates.
func TestDeployRolePermissions(t *testing.T) {
	srv := startSingleFromDeploy(t)
	url := srv.ClientURL()
	coord := connectAs(t, url, "coordinator")
	// Long TTLs: the seeded presence and leader keys must outlive the test,
	// also when failing cases wait for their deadlines.
	assets := bus.AssetOpts{NodeTTL: time.Minute, LeaderTTL: time.Minute}
	if err := bus.EnsureAssets(t.Context(), coord.js, assets); err != nil {
		t.Fatal(err)
	}
	seedMeshView(t, coord)
	cases := append(presenceCases(coord), meshReadCases()...)
	runPermCases(t, url, append(cases, apiWiringCases(coord)...))
}

// seedMeshView writes, as the coordinator, what the mesh view shows.
func seedMeshView(t *testing.T, coord *roleConn) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	leader, err := bus.EncodeLeader(bus.Leader{NodeID: seedLeader, Region: "us", StartedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	node, err := bus.EncodeNode(uptime.Node{Role: uptime.RoleProber, NodeID: seedProber, Region: seedRegion,
		Version: "test", StartedAt: now, SeenAt: now})
	if err != nil {
		t.Fatal(err)
	}
	nodes, assignments := bulk("bulk."), bulk("bulk-")
	nodes[bus.NodeKey(uptime.RoleProber, seedProber)] = node
	for bucket, kv := range map[string]map[string][]byte{
		bus.KVLeader:      {bus.LeaderKey: leader},
		bus.KVNodes:       nodes,
		bus.KVAssignments: assignments,
	} {
		if err := putAll(ctx, coord, bucket, kv); err != nil {
			t.Fatal(err)
		}
	}
	store, err := bus.NewAssignments(coord.js, bus.AssignmentsOpts{})
	if err != nil {
		t.Fatal(err)
	}
	err = store.Put(ctx, uptime.Assignment{NodeID: seedProber, Region: seedRegion, Epoch: 1,
		Ranges: []uptime.BucketRange{{Min: 0, Max: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coord.js.Publish(ctx, "jetmon.results.eu.1", []byte("{}")); err != nil {
		t.Fatalf("publish result: %v", err)
	}
}

// bulk is bulkEntries keys with prefix and values that decode as nothing.
func bulk(prefix string) map[string][]byte {
	out := make(map[string][]byte, bulkEntries)
	for i := range bulkEntries {
		out[fmt.Sprint(prefix, i)] = bytes.Repeat([]byte("x"), bulkSize)
	}
	return out
}

func putAll(ctx context.Context, c *roleConn, bucket string, entries map[string][]byte) error {
	kv, err := c.kv(ctx, bucket)
	if err != nil {
		return fmt.Errorf("open %s: %w", bucket, err)
	}
	for k, v := range entries {
		if _, err := kv.Put(ctx, k, v); err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, k, err)
		}
	}
	return nil
}

func presenceCases(coord *roleConn) []permCase {
	presence := func(name, user, role, nodeID string) permCase {
		return permCase{name: name, user: user, do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
			return runPresence(ctx, coord, c, role, nodeID)
		}}
	}
	return []permCase{
		presence("prober keeps its presence", "prober-us-1", uptime.RoleProber, "prober-us-1"),
		presence("veriflier keeps its presence", "veriflier-us-1", uptime.RoleVeriflier, "veriflier-us-1"),
		presence("deliverer keeps its presence", "deliverer", uptime.RoleDeliverer, "deliverer-1"),
		presence("a second deliverer keeps its presence", "deliverer", uptime.RoleDeliverer, "deliverer-2"),
		presence("api keeps its presence", "api", uptime.RoleAPI, "api-1"),
		deniedPut("deliverer writes a prober's presence key", "deliverer", bus.KVNodes, "prober."+seedProber),
		deniedPut("deliverer writes an api presence key", "deliverer", bus.KVNodes, "api.api-1"),
		deniedPut("api writes a deliverer presence key", "api", bus.KVNodes, "deliverer.deliverer-1"),
		deniedPut("api writes a prober's presence key", "api", bus.KVNodes, "prober."+seedProber),
		{name: "deliverer lists the nodes", user: "deliverer", denied: `"$JS.API.CONSUMER.CREATE.KV_JETMON_NODES.`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				_, err := bus.ListNodes(ctx, c.js)
				return err
			}},
	}
}

// runPresence runs bus.Presence for role and nodeID as c until its first
// write is acknowledged, checks as the coordinator that the key holds this
// node, stops the presence and checks that the key was deleted.
func runPresence(ctx context.Context, coord, c *roleConn, role, nodeID string) error {
	acked := make(chan struct{}, 1)
	p, err := bus.NewPresence(ackedJS{JetStream: c.js, acked: acked},
		bus.PresenceOpts{Role: role, NodeID: nodeID, Region: "us", Version: "test", TTL: time.Minute})
	if err != nil {
		return err
	}
	nodes, err := coord.kv(ctx, bus.KVNodes)
	if err != nil {
		return err
	}
	key := bus.NodeKey(role, nodeID)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	var werr error
	select {
	case <-acked:
		werr = wantNode(ctx, nodes, key, nodeID)
	case <-ctx.Done():
		werr = fmt.Errorf("no acknowledged presence write: %w", ctx.Err())
	}
	stop()
	if err := errors.Join(werr, <-done); err != nil {
		return err
	}
	// Run deletes the key (and waits for the ack) before it returns.
	_, err = nodes.Get(ctx, key)
	switch {
	case err == nil:
		return fmt.Errorf("after stop, %s is still there", key)
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return nil
	default:
		return fmt.Errorf("after stop, get %s: %w", key, err)
	}
}

// wantNode checks that key in nodes holds node nodeID.
func wantNode(ctx context.Context, nodes jetstream.KeyValue, key, nodeID string) error {
	e, err := nodes.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	n, err := bus.DecodeNode(e.Value())
	if err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	if n.NodeID != nodeID || n.Role+"."+n.NodeID != key {
		return fmt.Errorf("%s holds node %s.%s, want %s", key, n.Role, n.NodeID, nodeID)
	}
	return nil
}

// ackedJS is a real JetStream client whose KV handles report on acked
// when a Put has been acknowledged: a presence stopped before its first
// ack has no revision to delete.
type ackedJS struct {
	jetstream.JetStream
	acked chan<- struct{}
}

func (j ackedJS) KeyValue(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	kv, err := j.JetStream.KeyValue(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return ackedKV{KeyValue: kv, acked: j.acked}, nil
}

// ackedKV is ackedJS's KV handle.
type ackedKV struct {
	jetstream.KeyValue
	acked chan<- struct{}
}

func (kv ackedKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := kv.KeyValue.Put(ctx, key, value)
	if err == nil {
		select {
		case kv.acked <- struct{}{}:
		default:
		}
	}
	return rev, err
}

// deniedPut is a case where user opens bucket through the KV client and
// puts key, and the put is a permissions violation.
func deniedPut(name, user, bucket, key string) permCase {
	return permCase{name: name, user: user, denied: `"$KV.` + bucket + "." + key + `"`,
		do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
			kv, err := c.kv(ctx, bucket)
			if err != nil {
				return err
			}
			_, err = kv.PutString(ctx, key, "{}")
			return err
		}}
}

func meshReadCases() []permCase {
	return []permCase{
		{name: "api reads the mesh view", user: "api",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error { return checkMeshView(ctx, c) }},
		deniedPut("api writes the leader key", "api", bus.KVLeader, bus.LeaderKey),
		deniedPut("api writes an assignment", "api", bus.KVAssignments, seedProber),
		deniedPublish("api writes a site", "api", "$KV.JETMON_SITES.3.100"),
		deniedPublish("api reads the sites", "api", "$JS.API.STREAM.INFO.KV_JETMON_SITES"),
		deniedPublish("api purges the nodes bucket", "api", "$JS.API.STREAM.PURGE.KV_JETMON_NODES"),
		deniedPublish("api pulls check results", "api", "$JS.API.CONSUMER.MSG.NEXT.JETMON_RESULTS.coordinator"),
		deniedPublish("api deletes the results consumer", "api", "$JS.API.CONSUMER.DELETE.JETMON_RESULTS.coordinator"),
		{name: "api creates a results consumer", user: "api", denied: `$JS.API.CONSUMER.CREATE.JETMON_RESULTS`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				_, err := c.js.CreateOrUpdateConsumer(ctx, bus.StreamResults, jetstream.ConsumerConfig{Durable: "mine"})
				return err
			}},
	}
}

// checkMeshView collects the mesh view as c (what GET /api/v1/mesh shows)
// and compares it with the seed.
func checkMeshView(ctx context.Context, c *roleConn) error {
	s := meshstatus.Collect(ctx, c.js, meshstatus.Opts{Rollout: seedRollout})
	switch {
	case len(s.Errors) > 0:
		return fmt.Errorf("mesh view errors: %s", strings.Join(s.Errors, "; "))
	case s.Leader == nil || s.Leader.NodeID != seedLeader:
		return fmt.Errorf("leader %+v, want %s", s.Leader, seedLeader)
	case s.Counts[uptime.RoleProber] != 1:
		return fmt.Errorf("nodes %+v, want the seeded prober", s.Nodes)
	case len(s.Assignments) != 1 || !s.Assignments[0].Alive || s.Assignments[0].Buckets != 5:
		return fmt.Errorf("assignments %+v, want the seeded prober's 0-4", s.Assignments)
	case s.Backlog == nil || s.Backlog.Pending != 1 || s.Backlog.Stream != 1:
		return fmt.Errorf("backlog %+v, want 1 pending result in a stream of 1", s.Backlog)
	}
	return nil
}

// apiWiringCases are the API's other NATS uses (internal/jetmoncmd
// apirole.go): coordinator commands, the deliverer's manual retry and the
// health check's ping.
func apiWiringCases(coord *roleConn) []permCase {
	return []permCase{
		{name: "api calls a coordinator command", user: "api",
			do: func(ctx context.Context, t *testing.T, c *roleConn) error { return callCommand(ctx, t, coord, c) }},
		{name: "api publishes manual-retry jobs of every kind", user: "api",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				var errs []error
				for i, kind := range []string{"webhook", "alert", "wpcom"} {
					id := int64(100 + i)
					errs = append(errs, publishJob(ctx, c, bus.Job{DeliveryID: id, Kind: kind, DestinationID: id, TransitionID: 1}))
				}
				return errors.Join(errs...)
			}},
		{name: "api pings the server", user: "api",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				if !c.nc.IsConnected() {
					return fmt.Errorf("api connection %s", c.nc.Status())
				}
				return c.nc.FlushWithContext(ctx)
			}},
		{name: "api serves coordinator commands", user: "api", denied: `"jetmon.cmd.coordinator.>"`,
			do: func(_ context.Context, t *testing.T, c *roleConn) error {
				return c.respond(t, "jetmon.cmd.coordinator.>", "coordinator", "{}")
			}},
	}
}

// callCommand answers site.sync as the coordinator and calls it through
// bus.CommandClient as c.
func callCommand(ctx context.Context, t *testing.T, coord, c *roleConn) error {
	t.Helper()
	reply, err := bus.EncodeCommandReply([]byte(`{"ok":true}`), nil)
	if err != nil {
		return err
	}
	if err := coord.respond(t, bus.CoordinatorSubject("site.sync"), "", string(reply)); err != nil {
		return err
	}
	client, err := bus.NewCommandClient(c.nc)
	if err != nil {
		return err
	}
	data, err := client.Call(ctx, "site.sync", []byte(`{}`))
	if err == nil && string(data) != `{"ok":true}` {
		err = fmt.Errorf("command reply %q", data)
	}
	return err
}
