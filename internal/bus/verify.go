package bus

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Status header of the server's no-responders message (nats.go keeps its
// constants unexported).
const (
	statusHeader       = "Status"
	statusNoResponders = "503"
)

// VerifierOpts configures a Verifier.
type VerifierOpts struct {
	// Epoch returns the asking coordinator's current leader epoch, written
	// into every request for the verifliers' logs. Optional: 0 without it.
	Epoch  func() uint64
	Logger *slog.Logger
}

// Verifier asks verifliers of other regions to check a site: scatter-gather
// on jetmon.verify.<region>, where one queue group per region answers.
type Verifier struct {
	nc *nats.Conn
	o  VerifierOpts
}

// NewVerifier validates o; it does no I/O.
func NewVerifier(nc *nats.Conn, o VerifierOpts) (*Verifier, error) {
	if nc == nil {
		return nil, errors.New("verifier: connection is required")
	}
	if o.Epoch == nil {
		o.Epoch = func() uint64 { return 0 }
	}
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler)).With("component", "verifier")
	return &Verifier{nc: nc, o: o}, nil
}

// Verify sends spec (its BlogID set to blogID) to one veriflier of every
// region in regions and returns the votes that arrived before ctx's
// deadline, at most one per region, in the order of regions. It returns as
// soon as every region has answered or is known to have no veriflier (the
// server's no-responders status, which is not an error); regions that are
// still silent at the deadline are simply absent. A ctx without deadline
// gets DefaultRequestTimeout; a ctx cancelled before its deadline is an
// error.
//
// All replies arrive on one inbox subscription, <inbox>.*, each region's on
// the reply subject <inbox>.<region>: that is how a no-responders status,
// which carries nothing else, is told apart per region.
func (v *Verifier) Verify(ctx context.Context, regions []string, blogID int64, spec uptime.CheckSpec) ([]uptime.Vote, error) {
	regions, err := verifyRegions(regions)
	if err != nil || len(regions) == 0 {
		return nil, err
	}
	if blogID <= 0 || (spec.BlogID != 0 && spec.BlogID != blogID) {
		return nil, fmt.Errorf("verify: blog id %d (spec's %d): must be > 0 and agree", blogID, spec.BlogID)
	}
	spec.BlogID = blogID
	req := VerifyRequest{RequestID: rand.Text(), Epoch: v.o.Epoch(), Spec: spec}
	data, err := EncodeVerifyRequest(req)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
	votes, err := v.scatter(ctx, regions, data, v.o.Logger.With("request_id", req.RequestID, "blog_id", blogID))
	if err != nil {
		return nil, fmt.Errorf("verify %d: %w", blogID, err)
	}
	return votes, nil
}

// minVerifyBuffer is the smallest reply buffer of one Verify call.
const minVerifyBuffer = 64

// scatter publishes the encoded request to every region with its own reply
// subject under one fresh inbox and gathers the replies.
func (v *Verifier) scatter(ctx context.Context, regions []string, data []byte, log *slog.Logger) ([]uptime.Vote, error) {
	inbox := v.nc.NewRespInbox()
	// Room for one reply per region and plenty of strays: a full channel
	// drops messages (slow consumer) rather than blocking the connection,
	// and a dropped reply would be a lost vote.
	msgs := make(chan *nats.Msg, max(minVerifyBuffer, 4*len(regions)))
	sub, err := v.nc.ChanSubscribe(inbox+".*", msgs)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	defer func() {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			log.Warn("unsubscribe verify inbox", "err", err)
		}
	}()
	g := &gather{prefix: inbox + ".", pending: map[string]bool{}, votes: map[string]uptime.Vote{}, log: log}
	for _, region := range regions {
		m := &nats.Msg{Subject: VerifySubject(region), Reply: inbox + "." + region, Data: data}
		if err := v.nc.PublishMsg(m); err != nil {
			return nil, fmt.Errorf("publish to %s: %w", m.Subject, err)
		}
		g.pending[region] = true
	}
	if err := g.collect(ctx, msgs); err != nil {
		return nil, err
	}
	return g.result(regions), nil
}

// verifyRegions validates regions and drops repeats.
func verifyRegions(regions []string) ([]string, error) {
	out := make([]string, 0, len(regions))
	for _, r := range regions {
		if !keyToken.MatchString(r) {
			return nil, fmt.Errorf("verify: region %q must match %s", r, keyToken)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// gather collects the replies of one Verify call.
type gather struct {
	prefix  string          // the inbox and a dot: replies arrive on prefix+region
	pending map[string]bool // regions neither answered nor known to be empty
	votes   map[string]uptime.Vote
	log     *slog.Logger
}

// collect takes replies until no region is pending or ctx ends. Its
// deadline passing is not an error.
func (g *gather) collect(ctx context.Context, msgs <-chan *nats.Msg) error {
	for len(g.pending) > 0 {
		select {
		case m := <-msgs:
			g.take(m)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				g.log.Debug("verify deadline", "silent", len(g.pending), "votes", len(g.votes))
				return nil
			}
			return fmt.Errorf("gather votes: %w", context.Cause(ctx))
		}
	}
	return nil
}

// take settles a region with m, unless m is a stray: for a region that is
// not pending (unknown, or answered already), or not a valid vote of its
// reply subject's region.
func (g *gather) take(m *nats.Msg) {
	region, ok := strings.CutPrefix(m.Subject, g.prefix)
	if !ok || !g.pending[region] {
		g.log.Debug("verify: stray reply", "subject", m.Subject)
		return
	}
	if len(m.Data) == 0 && m.Header.Get(statusHeader) == statusNoResponders {
		delete(g.pending, region)
		g.log.Debug("verify: no veriflier", "region", region)
		return
	}
	vote, err := DecodeVerifyReply(m.Data)
	if err == nil && vote.Region != region {
		err = fmt.Errorf("vote of region %q on the reply subject of %q", vote.Region, region)
	}
	if err != nil {
		g.log.Warn("verify: bad reply", "region", region, "err", err)
		return
	}
	delete(g.pending, region)
	g.votes[region] = vote
}

// result lists the votes in the order of regions.
func (g *gather) result(regions []string) []uptime.Vote {
	out := make([]uptime.Vote, 0, len(g.votes))
	for _, r := range regions {
		if v, ok := g.votes[r]; ok {
			out = append(out, v)
		}
	}
	return out
}

// VerifyServerOpts configures a VerifyServer.
type VerifyServerOpts struct {
	Workers int // checks run at once, default 4
	Logger  *slog.Logger
}

// VerifyServer answers vote requests on jetmon.verify.<region> for a
// veriflier.
type VerifyServer struct {
	nc *nats.Conn
	o  VerifyServerOpts
}

// NewVerifyServer validates o; it does no I/O.
func NewVerifyServer(nc *nats.Conn, o VerifyServerOpts) (*VerifyServer, error) {
	if nc == nil {
		return nil, errors.New("verify server: connection is required")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("verify server: workers %d < 0", o.Workers)
	}
	o.Workers = cmpOr(o.Workers, defaultWorkers)
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler)).With("component", "verify_server")
	return &VerifyServer{nc: nc, o: o}, nil
}

// ServeVerify answers vote requests for region in its queue group
// "veriflier-<region>" (one member of a region answers each request) with
// the vote handle returns, its Region filled in when empty, until ctx ends;
// then it returns nil after running handlers returned. Handlers see ctx's
// end. A handler's error sends nothing, and so does a request that does not
// decode or arrived but was still queued at the end: the asking
// coordinator counts that region as silent.
func (s *VerifyServer) ServeVerify(ctx context.Context, region string, handle func(ctx context.Context, spec uptime.CheckSpec) (uptime.Vote, error)) error {
	if !keyToken.MatchString(region) {
		return fmt.Errorf("serve verify: region %q must match %s", region, keyToken)
	}
	return serve(ctx, serveOpts{
		nc: s.nc, subject: VerifySubject(region), queue: verifyQueue(region), workers: s.o.Workers,
		logger: s.o.Logger, dropOnStop: true,
		handle: func(ctx context.Context, m *nats.Msg) []byte { return s.answer(ctx, region, m, handle) },
	})
}

// answer returns the encoded vote for request m, or nil for no reply.
func (s *VerifyServer) answer(ctx context.Context, region string, m *nats.Msg, handle func(ctx context.Context, spec uptime.CheckSpec) (uptime.Vote, error)) []byte {
	req, err := DecodeVerifyRequest(m.Data)
	if err != nil {
		s.o.Logger.Warn("bad verify request", "region", region, "err", err)
		return nil
	}
	log := s.o.Logger.With("request_id", req.RequestID, "epoch", req.Epoch, "blog_id", req.Spec.BlogID)
	vote, err := handle(ctx, req.Spec)
	if err != nil {
		log.Info("no vote", "err", err)
		return nil
	}
	vote.Region = cmpOr(vote.Region, region)
	data, err := EncodeVerifyReply(vote)
	if err != nil {
		log.Warn("encode vote", "err", err)
		return nil
	}
	return data
}
