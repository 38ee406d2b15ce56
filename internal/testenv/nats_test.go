package testenv_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestStartNATS(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	js, err := jetstream.New(n.Conn(t))
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	if _, err := js.Publish(ctx, "t.1", []byte("x")); err != nil {
		t.Fatalf("publish: %v", err)
	}

	if u := n.URL(); !strings.HasPrefix(u, "nats://127.0.0.1:") || strings.HasSuffix(u, ":4222") {
		t.Fatalf("URL = %q, want a random loopback port", u)
	}
	byURL, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatalf("connect by URL: %v", err)
	}
	defer byURL.Close()
	js2, err := jetstream.New(byURL)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	s, err := js2.Stream(ctx, "T")
	if err != nil {
		t.Fatalf("stream by URL: %v", err)
	}
	if got := s.CachedInfo().State.Msgs; got != 1 {
		t.Errorf("stream holds %d messages, want 1", got)
	}
}

func TestStartClusterForms(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := testenv.StartCluster(t, 3)
	t.Logf("cluster ready in %s", time.Since(start))
	if got := len(c.URLs()); got != 3 {
		t.Fatalf("URLs = %d, want 3", got)
	}
	for i := range 3 {
		if want, got := fmt.Sprintf("n%d", i+1), c.Server(i).NATSServer().Name(); got != want {
			t.Errorf("node %d name = %q, want %q", i, got, want)
		}
	}
	// Exactly one meta leader, which sees all three peers.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := waitUntil(ctx, func() bool {
		var leaders, peers int
		for i := range 3 {
			if ns := c.Server(i).NATSServer(); ns.JetStreamIsLeader() {
				leaders++
				peers = len(ns.JetStreamClusterPeers())
			}
		}
		return leaders == 1 && peers == 3
	})
	if err != nil {
		t.Fatalf("no meta leader seeing 3 peers: %v", err)
	}
	if got := c.StreamLeader("NONE"); got != -1 {
		t.Errorf("StreamLeader of a missing stream = %d, want -1", got)
	}
}

// Deadlines of TestClusterStreamSurvivesLeaderKill's steps, each its own:
// one budget shared by the whole test ran out on a loaded box. A failover
// whose leadership hand-over was lost waits for a raft election timeout (4
// to 9 s in nats-server) and a restarted node must catch up first; under
// -race on a loaded 2-core box either can take many seconds.
const (
	clusterStep     = 30 * time.Second // create, catch up, publish with a leader, read back
	clusterFailover = 45 * time.Second // a new stream leader after the old one was killed
)

// TestClusterStreamSurvivesLeaderKill kills the leader of an R3 stream while
// a publisher writes to it with message ids and retries, restarts that node,
// then kills the next leader and writes on: the stream holds every message
// exactly once throughout, and the second round of writes needs the
// restarted node in the quorum.
func TestClusterStreamSurvivesLeaderKill(t *testing.T) {
	t.Parallel()
	c := testenv.StartCluster(t, 3)
	js, err := jetstream.New(c.Connect(t))
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	cfg := jetstream.StreamConfig{Name: "KILL", Subjects: []string{"kill.>"}, Replicas: 3}
	if _, err := js.CreateStream(stepCtx(t, clusterStep), cfg); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	if err := c.WaitStreamCurrent(stepCtx(t, clusterStep), "KILL"); err != nil {
		t.Fatal(err)
	}

	const total = 90
	var p publisher
	done := make(chan error, 1)
	pubCtx := stepCtx(t, clusterStep+clusterFailover) // its writes span the failover
	go func() { done <- p.publish(pubCtx, js, 0, 2*total/3) }()
	if err := waitUntil(stepCtx(t, clusterStep), func() bool { return p.published.Load() >= total/3 }); err != nil {
		t.Fatalf("publisher stuck at %d: %v", p.published.Load(), err)
	}
	leader := killLeader(t, c)
	if err := <-done; err != nil {
		t.Fatalf("publish while killing the leader: %v", err)
	}
	assertExactlyOnce(stepCtx(t, clusterStep), t, js, 2*total/3)

	restarted := time.Now()
	c.Restart(leader)
	if err := c.WaitStreamCurrent(stepCtx(t, clusterStep), "KILL"); err != nil {
		t.Fatalf("after restart of node %d: %v", leader, err)
	}
	t.Logf("n%d restarted and current in %v", leader+1, time.Since(restarted).Round(time.Millisecond))
	second := killLeader(t, c)
	if err := p.publish(stepCtx(t, clusterStep), js, 2*total/3, total); err != nil {
		t.Fatalf("publish with nodes %d and the restarted %d: %v", 3-leader-second, leader, err)
	}
	assertExactlyOnce(stepCtx(t, clusterStep), t, js, total)
	t.Logf("killed n%d, restarted it, killed n%d; %d publish retries", leader+1, second+1, p.retries.Load())
}

// killLeader kills the node leading stream KILL and waits for its
// successor; it returns the killed node.
func killLeader(t *testing.T, c *testenv.Cluster) int {
	t.Helper()
	leader, err := c.WaitStreamLeader(stepCtx(t, clusterStep), "KILL", -1)
	if err != nil {
		t.Fatal(err)
	}
	c.Kill(leader)
	killed := time.Now()
	next, err := c.WaitStreamLeader(stepCtx(t, clusterFailover), "KILL", leader)
	if err != nil {
		t.Fatalf("no new leader after killing node %d: %v", leader, err)
	}
	t.Logf("n%d leads %v after n%d was killed", next+1, time.Since(killed).Round(time.Millisecond), leader+1)
	return leader
}

// stepCtx is a context for one step of a test, ending after d at most.
func stepCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// publisher writes numbered messages with a message id each, retrying
// every failed publish: a retry after a lost ack is deduplicated.
type publisher struct {
	published atomic.Int64
	retries   atomic.Int64
}

func (p *publisher) publish(ctx context.Context, js jetstream.JetStream, from, to int) error {
	for i := from; i < to; i++ {
		err := waitUntil(ctx, func() bool {
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := js.Publish(actx, fmt.Sprintf("kill.%d", i%3), []byte(strconv.Itoa(i)),
				jetstream.WithMsgID(fmt.Sprintf("m-%d", i)))
			if err != nil {
				p.retries.Add(1)
			}
			return err == nil
		})
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		p.published.Add(1)
	}
	return nil
}

// assertExactlyOnce checks that stream KILL holds messages 0..want-1, each
// once.
func assertExactlyOnce(ctx context.Context, t *testing.T, js jetstream.JetStream, want int) {
	t.Helper()
	s, err := js.Stream(ctx, "KILL")
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	state := s.CachedInfo().State
	if state.Msgs != uint64(want) {
		t.Fatalf("stream holds %d messages, want %d", state.Msgs, want)
	}
	seen := make(map[int]bool, want)
	for seq := state.FirstSeq; seq <= state.LastSeq; seq++ {
		msg, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get seq %d: %v", seq, err)
		}
		n, err := strconv.Atoi(string(msg.Data))
		if err != nil || n < 0 || n >= want || seen[n] {
			t.Fatalf("seq %d holds %q: not a new message below %d", seq, msg.Data, want)
		}
		seen[n] = true
	}
	if len(seen) != want {
		t.Fatalf("read %d distinct messages, want %d", len(seen), want)
	}
}

// waitUntil polls cond every 20ms until it holds or ctx ends.
func waitUntil(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
