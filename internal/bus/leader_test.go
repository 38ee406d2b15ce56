package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

const leaderTTL = 2 * time.Second // testAssets().LeaderTTL

// candidate is one coordinator process: an elector whose Run lives until
// the test ends (or its connection is closed), and campaigns on demand.
type candidate struct {
	name string
	el   *bus.Elector
	nc   *nats.Conn
}

func newCandidate(t *testing.T, name string, nc *nats.Conn) *candidate {
	t.Helper()
	el, err := bus.NewElector(newJS(t, nc), bus.ElectorOpts{NodeID: name, Region: "us", TTL: leaderTTL})
	if err != nil {
		t.Fatal(err)
	}
	run(t, el.Run)
	return &candidate{name: name, el: el, nc: nc}
}

type won struct {
	c    *candidate
	term *bus.Term
	at   time.Time
}

// campaign starts c's campaign; the won term arrives on wins.
func (c *candidate) campaign(t *testing.T, wins chan<- won) {
	run(t, func(ctx context.Context) error {
		term, err := c.el.Campaign(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		wins <- won{c: c, term: term, at: time.Now()}
		return nil
	})
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// leaseRevision is the lease's current revision (0 without a lease).
func leaseRevision(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	_, rev, err := bus.CurrentLeader(t.Context(), js)
	if err != nil && !errors.Is(err, bus.ErrNoLeader) {
		t.Fatal(err)
	}
	return rev
}

// TestElectorHandover: one of two candidates leads and keeps the lease
// beyond its TTL by renewing; Resign hands over in under 2s; a leader that
// dies without resigning is replaced within TTL + 1s; epochs increase.
func TestElectorHandover(t *testing.T) {
	t.Parallel()
	n, js := setup(t, testAssets())
	a := newCandidate(t, "a", n.Conn(t))
	b := newCandidate(t, "b", n.Conn(t))
	wins := make(chan won, 2)
	a.campaign(t, wins)
	b.campaign(t, wins)

	first := recv(t, wins, 3*time.Second, "a first leader")
	other := map[*candidate]*candidate{a: b, b: a}[first.c]
	// Renewals keep the lease past its TTL.
	eventually(t, 3*leaderTTL, "three renewals", func() error {
		if rev := leaseRevision(t, js); rev < first.term.Epoch()+3 {
			return errorf("lease revision %d, epoch %d", rev, first.term.Epoch())
		}
		return nil
	})
	if isClosed(first.term.Lost()) {
		t.Fatal("leader lost its term while renewing")
	}
	select {
	case w := <-wins:
		t.Fatalf("%s also leads", w.c.name)
	default:
	}

	resigned := time.Now()
	if err := first.term.Resign(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := recv(t, wins, 2*time.Second, "handover after resign")
	t.Logf("handover after resign took %v", second.at.Sub(resigned))
	if second.c != other || second.term.Epoch() <= first.term.Epoch() || !isClosed(first.term.Lost()) {
		t.Fatalf("second term: %s epoch %d after epoch %d", second.c.name, second.term.Epoch(), first.term.Epoch())
	}

	// The first leader stands by again; the second one dies.
	first.c.campaign(t, wins)
	second.c.nc.Close()
	died := time.Now()
	third := recv(t, wins, leaderTTL+time.Second, "takeover after the leader died")
	t.Logf("takeover after death took %v (TTL %v)", third.at.Sub(died), leaderTTL)
	if third.c != first.c || third.term.Epoch() <= second.term.Epoch() {
		t.Fatalf("third term: %s epoch %d after epoch %d", third.c.name, third.term.Epoch(), second.term.Epoch())
	}
	select {
	case <-second.term.Lost():
	case <-time.After(leaderTTL):
		t.Fatal("dead leader's term not lost")
	}
}

// TestElectorPausedLeaderStepsDown: a leader whose traffic stalls reports
// Lost before the server expires its lease, and the standby takes over.
func TestElectorPausedLeaderStepsDown(t *testing.T) {
	t.Parallel()
	n, js := setup(t, testAssets())
	proxy := startPauseProxy(t, n.URL())
	slowConn, err := nats.Connect(proxy.URL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slowConn.Close)
	slow := newCandidate(t, "slow", slowConn)
	t.Cleanup(proxy.resume) // before the candidates stop and resign
	wins := make(chan won, 2)
	slow.campaign(t, wins)
	leader := recv(t, wins, 3*time.Second, "slow leads")

	// Watch the lease from the server's side.
	lease, err := kv(t, js, bus.KVLeader).Watch(t.Context(), bus.LeaderKey, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lease.Stop() }()
	standby := newCandidate(t, "standby", n.Conn(t))
	standby.campaign(t, wins)

	// Pause right after a renew so the timing is measured from it.
	recvUntil(t, lease.Updates(), 2*time.Second, "a renew", func(e jetstream.KeyValueEntry) bool { return e != nil })
	proxy.pause()
	paused := time.Now()
	expired := recvUntil(t, lease.Updates(), 2*leaderTTL, "server-side expiry", func(e jetstream.KeyValueEntry) bool {
		return e != nil && e.Operation() == jetstream.KeyValuePurge
	})
	expiredAt := time.Now()
	select {
	case <-leader.term.Lost():
	default:
		t.Fatalf("the lease expired on the server (%v after the pause) before the paused leader reported Lost", expiredAt.Sub(paused))
	}
	next := recv(t, wins, 2*time.Second, "standby takes over")
	t.Logf("expired %v after the pause (rev %d), standby led %v after the pause", expiredAt.Sub(paused), expired.Revision(), next.at.Sub(paused))
	if next.c != standby || next.term.Epoch() <= leader.term.Epoch() {
		t.Fatalf("next term: %s epoch %d after %d", next.c.name, next.term.Epoch(), leader.term.Epoch())
	}
}

// TestElectorSurvivesStreamLeaderLoss: on a 3-node cluster, stopping the
// node that leads the lease's stream leaves exactly one leader whose lease
// keeps being renewed.
func TestElectorSurvivesStreamLeaderLoss(t *testing.T) {
	t.Parallel()
	c := testenv.StartCluster(t, 3)
	o := testAssets()
	o.Replicas = 3
	js := newJS(t, c.Connect(t))
	if err := bus.EnsureAssets(t.Context(), js, o); err != nil {
		t.Fatal(err)
	}
	a := newCandidate(t, "a", c.Connect(t))
	b := newCandidate(t, "b", c.Connect(t))
	wins := make(chan won, 4)
	a.campaign(t, wins)
	b.campaign(t, wins)
	first := recv(t, wins, 5*time.Second, "a first leader")

	stream := "KV_" + bus.KVLeader
	victim := c.StreamLeader(stream)
	if victim < 0 {
		t.Fatal("no stream leader")
	}
	c.Kill(victim)
	killed := time.Now()

	// Within a bound, one term is alive and its lease is being renewed.
	current := first
	eventually(t, 4*leaderTTL, "a renewed lease after the kill", func() error {
		select {
		case w := <-wins:
			if !isClosed(current.term.Lost()) {
				return errorf("%s won epoch %d while %s's term is alive", w.c.name, w.term.Epoch(), current.c.name)
			}
			if w.term.Epoch() <= current.term.Epoch() {
				return errorf("epoch %d after %d", w.term.Epoch(), current.term.Epoch())
			}
			current.c.campaign(t, wins) // the old leader stands by again
			current = w
		default:
		}
		if isClosed(current.term.Lost()) {
			return errorf("%s lost its term; waiting for a successor", current.c.name)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		l, rev, err := bus.CurrentLeader(ctx, js)
		if err != nil {
			return err
		}
		if l.NodeID != current.c.name || rev < current.term.Epoch()+2 {
			return errorf("lease %s rev %d; term of %s epoch %d", l.NodeID, rev, current.c.name, current.term.Epoch())
		}
		return nil
	})
	t.Logf("leader %s (epoch %d, first was %s) renewing %v after the kill", current.c.name, current.term.Epoch(), first.c.name, time.Since(killed))
}
