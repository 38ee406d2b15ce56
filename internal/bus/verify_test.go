package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// verifySpec is the site every verify test asks about.
func verifySpec() uptime.CheckSpec {
	return uptime.CheckSpec{URL: "https://down.example/", Timeout: 3 * time.Second, Keyword: "shop",
		RedirectPolicy: uptime.RedirectFollow}
}

// serveVerify runs a VerifyServer for region on a connection of its own (a
// veriflier node) until the test ends.
func serveVerify(t *testing.T, n *testenv.NATS, region string, handle func(context.Context, uptime.CheckSpec) (uptime.Vote, error)) {
	t.Helper()
	srv, err := bus.NewVerifyServer(n.Conn(t), bus.VerifyServerOpts{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	run(t, func(ctx context.Context) error { return srv.ServeVerify(ctx, region, handle) })
}

func newVerifier(t *testing.T, n *testenv.NATS) *bus.Verifier {
	t.Helper()
	v, err := bus.NewVerifier(n.Conn(t), bus.VerifierOpts{Epoch: func() uint64 { return 7 }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// verify calls Verify with a deadline of d and reports how long it took.
func verify(t *testing.T, v *bus.Verifier, d time.Duration, blogID int64, regions ...string) ([]uptime.Vote, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	start := time.Now()
	votes, err := v.Verify(ctx, regions, blogID, verifySpec())
	if err != nil {
		t.Fatalf("verify %v: %v", regions, err)
	}
	return votes, time.Since(start)
}

func voteRegions(votes []uptime.Vote) string {
	regions := make([]string, len(votes))
	for i, v := range votes {
		regions[i] = v.Region
	}
	return strings.Join(regions, ",")
}

// answered counts the requests each veriflier node handled.
type answered struct {
	mu     sync.Mutex
	byNode map[string]int
	specs  []uptime.CheckSpec
}

func (a *answered) handler(node string) func(context.Context, uptime.CheckSpec) (uptime.Vote, error) {
	return func(_ context.Context, spec uptime.CheckSpec) (uptime.Vote, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.byNode[node]++
		a.specs = append(a.specs, spec)
		return uptime.Vote{NodeID: node, HTTPCode: 503, ErrorCode: uptime.ErrorConnect, RTT: 40 * time.Millisecond,
			CheckedAt: time.Now()}, nil
	}
}

func (a *answered) snapshot() (map[string]int, []uptime.CheckSpec) {
	a.mu.Lock()
	defer a.mu.Unlock()
	counts := make(map[string]int, len(a.byNode))
	for k, v := range a.byNode {
		counts[k] = v
	}
	return counts, append([]uptime.CheckSpec(nil), a.specs...)
}

// TestVerifyOneVotePerRegion: two regions with two verifliers each give
// exactly one vote per region, every time, and each request is checked by
// one veriflier of the region only.
func TestVerifyOneVotePerRegion(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	a := &answered{byNode: map[string]int{}}
	for _, node := range []string{"eu-1", "eu-2", "ap-1", "ap-2"} {
		serveVerify(t, n, node[:2], a.handler(node))
	}
	v := newVerifier(t, n)
	calls := 0
	eventually(t, 10*time.Second, "every veriflier answered", func() error {
		votes, took := verify(t, v, 5*time.Second, 42, "eu", "ap", "eu")
		if len(votes) == 2 && took > 2*time.Second {
			t.Fatalf("two votes took %v: Verify waited for more than one per region", took)
		}
		calls += len(votes)
		if got := voteRegions(votes); got != "eu,ap" {
			return errorf("vote regions %q, want eu,ap", got)
		}
		counts, _ := a.snapshot()
		if len(counts) < 4 {
			return errorf("answered by %v", counts)
		}
		return nil
	})
	counts, specs := a.snapshot()
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != calls {
		t.Errorf("verifliers ran %d checks for %d votes: a region checked a request twice", total, calls)
	}
	want := verifySpec()
	want.BlogID = 42
	for _, s := range specs {
		if s.BlogID != want.BlogID || s.URL != want.URL || s.Timeout != want.Timeout || s.Keyword != want.Keyword {
			t.Fatalf("veriflier got spec %+v, want %+v", s, want)
		}
	}
}

// TestVerifySlowRegionIsAbsent: a region that does not answer before the
// deadline is missing from the votes; the others are there.
func TestVerifySlowRegionIsAbsent(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	a := &answered{byNode: map[string]int{}}
	serveVerify(t, n, "fast", a.handler("fast-1"))
	slowStarted := make(chan struct{}, 8)
	serveVerify(t, n, "slow", func(ctx context.Context, spec uptime.CheckSpec) (uptime.Vote, error) {
		if spec.BlogID == 1 { // readiness probe
			return uptime.Vote{NodeID: "slow-1", CheckedAt: time.Now()}, nil
		}
		slowStarted <- struct{}{}
		<-ctx.Done() // answers only when the server stops
		return uptime.Vote{}, ctx.Err()
	})
	v := newVerifier(t, n)
	eventually(t, 5*time.Second, "verifliers subscribed", func() error {
		if votes, _ := verify(t, v, 2*time.Second, 1, "fast", "slow"); len(votes) != 2 {
			return errorf("votes %q", voteRegions(votes))
		}
		return nil
	})
	const deadline = 300 * time.Millisecond
	votes, took := verify(t, v, deadline, 2, "slow", "fast")
	if got := voteRegions(votes); got != "fast" {
		t.Errorf("votes of %q, want fast only", got)
	}
	if took < deadline {
		t.Errorf("returned after %v, before the %v deadline", took, deadline)
	}
	recv(t, slowStarted, 5*time.Second, "slow region got the request")
}

// TestVerifyNoResponders: regions without any veriflier are not errors and
// do not hold Verify until the deadline.
func TestVerifyNoResponders(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	a := &answered{byNode: map[string]int{}}
	serveVerify(t, n, "eu", a.handler("eu-1"))
	v := newVerifier(t, n)
	eventually(t, 5*time.Second, "veriflier subscribed", func() error {
		if votes, _ := verify(t, v, 2*time.Second, 1, "eu"); len(votes) != 1 {
			return errorf("no vote yet")
		}
		return nil
	})
	rows := map[string]struct {
		regions   []string
		wantVotes string
	}{
		"nobody anywhere":        {[]string{"nowhere", "nobody"}, ""},
		"one region of two":      {[]string{"nowhere", "eu"}, "eu"},
		"no regions asked about": {nil, ""},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			votes, took := verify(t, v, 10*time.Second, 42, row.regions...)
			if got := voteRegions(votes); got != row.wantVotes {
				t.Errorf("votes of %q, want %q", got, row.wantVotes)
			}
			if took > 2*time.Second {
				t.Errorf("took %v: no-responders should settle a region at once", took)
			}
		})
	}
}

// TestVerifyIgnoresStrayReplies: a responder that is not a queue group
// member and misbehaves: a malformed reply, another region's vote, a reply
// for a region not asked about, then two valid votes. Only the first valid
// vote counts.
func TestVerifyIgnoresStrayReplies(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	nc := n.Conn(t)
	vote := func(region, node string) []byte {
		b, err := bus.EncodeVerifyReply(uptime.Vote{Region: region, NodeID: node, Up: true, HTTPCode: 200, CheckedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sub, err := nc.Subscribe(bus.VerifySubject("eu"), func(m *nats.Msg) {
		base := strings.TrimSuffix(m.Reply, ".eu")
		for _, r := range []struct {
			subject string
			data    []byte
		}{
			{m.Reply, []byte(`{"v":1,"region":"eu"}`)},
			{m.Reply, vote("zz", "intruder")},
			{base + ".ap", vote("ap", "unasked")},
			{m.Reply, vote("eu", "first")},
			{m.Reply, vote("eu", "second")},
		} {
			if err := nc.Publish(r.subject, r.data); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, n)
	votes, _ := verify(t, v, 5*time.Second, 42, "eu")
	if len(votes) != 1 || votes[0].NodeID != "first" || votes[0].Region != "eu" {
		t.Errorf("votes = %+v, want only eu's first", votes)
	}
}

func TestVerifyErrors(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	v := newVerifier(t, n)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	spec := verifySpec()
	rows := map[string]struct {
		ctx     context.Context
		regions []string
		blogID  int64
		spec    uptime.CheckSpec
	}{
		"wildcard region":      {t.Context(), []string{"eu.*"}, 42, spec},
		"empty region":         {t.Context(), []string{""}, 42, spec},
		"no blog id":           {t.Context(), []string{"eu"}, 0, spec},
		"spec of another blog": {t.Context(), []string{"eu"}, 42, uptime.CheckSpec{BlogID: 43, URL: "http://a/"}},
		"cancelled":            {cancelled, []string{"eu"}, 42, spec},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if votes, err := v.Verify(row.ctx, row.regions, row.blogID, row.spec); err == nil {
				t.Errorf("Verify = %v, nil; want an error", votes)
			}
		})
	}
}

// TestServeVerifyAnswersNothingWithoutVote: a request that does not decode
// and a handler's error both leave the caller without a reply.
func TestServeVerifyAnswersNothingWithoutVote(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	serveVerify(t, n, "eu", func(_ context.Context, spec uptime.CheckSpec) (uptime.Vote, error) {
		if spec.Keyword == "refuse" {
			return uptime.Vote{}, errors.New("stopping")
		}
		return uptime.Vote{NodeID: "eu-1", CheckedAt: time.Now()}, nil
	})
	nc := n.Conn(t)
	request := func(spec uptime.CheckSpec) ([]byte, error) {
		data, err := bus.EncodeVerifyRequest(bus.VerifyRequest{RequestID: "r1", Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		m, err := nc.Request(bus.VerifySubject("eu"), data, 500*time.Millisecond)
		if err != nil {
			return nil, err
		}
		return m.Data, nil
	}
	eventually(t, 5*time.Second, "server subscribed", func() error {
		data, err := request(uptime.CheckSpec{BlogID: 5, URL: "http://a/"})
		if err != nil {
			return err
		}
		got, err := bus.DecodeVerifyReply(data)
		if err != nil || got.Region != "eu" || got.NodeID != "eu-1" {
			t.Fatalf("reply %+v, %v: want eu-1's vote with the served region filled in", got, err)
		}
		return nil
	})
	if _, err := request(uptime.CheckSpec{BlogID: 5, URL: "http://a/", Keyword: "refuse"}); !errors.Is(err, nats.ErrTimeout) {
		t.Errorf("handler error: %v, want no reply (timeout)", err)
	}
	if _, err := nc.Request(bus.VerifySubject("eu"), []byte(`{"v":1,"blog_id":5}`), 500*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Errorf("malformed request: %v, want no reply (timeout)", err)
	}
	srv, err := bus.NewVerifyServer(nc, bus.VerifyServerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ServeVerify(t.Context(), "eu.>", nil); err == nil {
		t.Error("ServeVerify with a wildcard region: want an error")
	}
}

// TestTransitionPublishIsDeduplicated: a relay that publishes a transition
// twice (a crash between publish and delete) stores it once.
func TestTransitionPublishIsDeduplicated(t *testing.T) {
	t.Parallel()
	_, js := setup(t, testAssets())
	pub, err := bus.NewTransitionPublisher(js)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{7, 7, 8} {
		if err := pub.PublishTransition(t.Context(), id, fmt.Appendf(nil, `{"transition_id":%d}`, id)); err != nil {
			t.Fatalf("publish %d: %v", id, err)
		}
	}
	s, err := js.Stream(t.Context(), bus.StreamDelivery)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().State.Msgs; got != 2 {
		t.Errorf("JETMON_DELIVERY holds %d messages, want 2", got)
	}
	m, err := s.GetMsg(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != bus.SubjectDeliverTransition || m.Header.Get("Nats-Msg-Id") != "transition-7" || string(m.Data) != `{"transition_id":7}` {
		t.Errorf("stored %s %v %s", m.Subject, m.Header, m.Data)
	}
	if err := pub.PublishTransition(t.Context(), 0, nil); err == nil {
		t.Error("transition id 0: want an error")
	}
}

// TestTransitionPublishWithoutStream fails instead of reporting success
// when no stream stores the subject.
func TestTransitionPublishWithoutStream(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	pub, err := bus.NewTransitionPublisher(newJS(t, n.Conn(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := pub.PublishTransition(ctx, 1, []byte(`{}`)); err == nil {
		t.Error("publish without JETMON_DELIVERY: want an error")
	}
}
