package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoLeader means no coordinator holds the lease.
var ErrNoLeader = errors.New("no coordinator leader")

// ElectorOpts configures an Elector.
type ElectorOpts struct {
	NodeID string
	Region string
	// TTL is JETMON_LEADER's TTL (LEADER_TTL_SEC; EnsureAssets gives the
	// bucket the same value), default DefaultLeaderTTL. A leader renews
	// every TTL/3 and steps down once TTL - TTL/5 has passed since its last
	// successful renew; a standby retries every TTL/2.
	TTL    time.Duration
	Logger *slog.Logger
	Now    func() time.Time // stamps the lease's started_at; default time.Now
}

// Elector wins and keeps the coordinator lease in KV JETMON_LEADER
// (reference §4.3): Campaign acquires it with Create, and Run renews the
// won term with revision-checked Updates. Both must run: Run in the
// process's group, Campaign from the coordinator.
type Elector struct {
	js      jetstream.JetStream
	o       ElectorOpts
	kv      *kvHandle
	handoff chan *Term
}

// NewElector validates o; it does no I/O.
func NewElector(js jetstream.JetStream, o ElectorOpts) (*Elector, error) {
	if js == nil {
		return nil, errors.New("elector: jetstream is required")
	}
	if !keyToken.MatchString(o.NodeID) {
		return nil, fmt.Errorf("elector: node id %q must match %s", o.NodeID, keyToken)
	}
	o.TTL = cmpOr(o.TTL, DefaultLeaderTTL)
	if o.TTL < minKVTTL {
		return nil, fmt.Errorf("elector: ttl %v < %v", o.TTL, minKVTTL)
	}
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler)).With("component", "elector")
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Elector{js: js, o: o, kv: &kvHandle{js: js, bucket: KVLeader}, handoff: make(chan *Term)}, nil
}

// Run keeps each term Campaign wins, one at a time: it renews the lease
// every TTL/3 and closes the term's Lost channel when a renew finds the
// lease gone or taken (revision mismatch, key not found), when the local
// deadline passes, or when the term is resigned. When ctx ends it resigns
// the current term (a conditional delete, bounded to 2s) and returns nil.
// This is the one goroutine that renews; Campaign does not return a term
// until Run has taken it.
func (e *Elector) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case t := <-e.handoff:
			e.keep(ctx, t)
		}
	}
}

// Campaign blocks until this node holds the lease and Run keeps it, or ctx
// ends (then it returns ctx's error, and gives up a lease won meanwhile).
// As a standby it watches the lease key and tries to create it as soon as
// it is deleted or expires, and every TTL/2 in case an event was missed.
// The term's epoch is the lease revision Create returned.
func (e *Elector) Campaign(ctx context.Context) (*Term, error) {
	for {
		kv, err := e.kv.get(ctx)
		if err == nil {
			t, err := e.acquire(ctx, kv)
			if err != nil {
				return nil, err
			}
			return e.handOff(ctx, t)
		}
		e.o.Logger.Warn("elector: open lease bucket", "err", err)
		sleep(ctx, e.o.TTL/2)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("campaign: %w", context.Cause(ctx))
		}
	}
}

// handOff gives t to Run, or resigns it when ctx ends first.
func (e *Elector) handOff(ctx context.Context, t *Term) (*Term, error) {
	select {
	case e.handoff <- t:
		e.o.Logger.Info("elector: leading", "epoch", t.epoch)
		return t, nil
	case <-ctx.Done():
		close(t.kept)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		if err := t.resign(rctx); err != nil {
			e.o.Logger.Warn("elector: give up lease won while stopping", "err", err)
		}
		return nil, fmt.Errorf("campaign: %w", context.Cause(ctx))
	}
}

// acquire creates the lease key, waiting as a standby while another node
// holds it.
func (e *Elector) acquire(ctx context.Context, kv jetstream.KeyValue) (*Term, error) {
	var events <-chan jetstream.KeyValueEntry // nil: retry by timer only
	if kw, err := kv.Watch(ctx, LeaderKey, jetstream.UpdatesOnly()); err != nil {
		e.o.Logger.Warn("elector: watch lease", "err", err)
	} else {
		defer stopWatch(kw)
		events = kw.Updates()
	}
	retry := time.NewTicker(e.o.TTL / 2)
	defer retry.Stop()
	for {
		t, err := e.tryCreate(ctx, kv)
		if t != nil {
			return t, nil
		}
		if err != nil && ctx.Err() == nil {
			e.o.Logger.Warn("elector: create lease", "err", err)
		}
		if events, err = e.waitTurn(ctx, events, retry.C); err != nil {
			return nil, err
		}
	}
}

// waitTurn waits until the lease key is deleted or expires, or the retry
// timer fires. It returns events, or nil once that channel has closed.
func (e *Elector) waitTurn(ctx context.Context, events <-chan jetstream.KeyValueEntry, retry <-chan time.Time) (<-chan jetstream.KeyValueEntry, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("campaign: %w", context.Cause(ctx))
		case <-retry:
			return events, nil
		case ev, ok := <-events:
			if !ok {
				return nil, nil
			}
			if ev != nil && isDeletion(ev) {
				return events, nil
			}
		}
	}
}

// tryCreate makes one attempt to create the lease; nil, nil when another
// node holds it.
func (e *Elector) tryCreate(ctx context.Context, kv jetstream.KeyValue) (*Term, error) {
	leader := Leader{NodeID: e.o.NodeID, Region: e.o.Region, StartedAt: e.o.Now()}
	val, err := EncodeLeader(leader)
	if err != nil {
		return nil, err
	}
	sent := time.Now() // the server's TTL starts later: a conservative local deadline
	cctx, cancel := context.WithTimeout(ctx, e.o.TTL/3)
	defer cancel()
	rev, err := kv.Create(cctx, LeaderKey, val)
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("create lease: %w", err)
	}
	return &Term{
		epoch: rev, leader: leader, kv: kv, value: val, ttl: e.o.TTL, logger: e.o.Logger.With("epoch", rev),
		lost: make(chan struct{}), stop: make(chan struct{}), kept: make(chan struct{}),
		rev: rev, renewed: sent,
	}, nil
}

// keep renews t until it is lost, resigned, or ctx ends.
func (e *Elector) keep(ctx context.Context, t *Term) {
	defer close(t.kept)
	defer t.markLost()
	renew := time.NewTicker(t.ttl / 3)
	defer renew.Stop()
	for {
		deadline := t.deadline()
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ctx.Done():
			timer.Stop()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			if err := t.resign(rctx); err != nil {
				t.logger.Warn("elector: resign on stop", "err", err)
			}
			cancel()
			return
		case <-t.stop:
			timer.Stop()
			return
		case <-timer.C:
			t.logger.Warn("elector: lease lost: local deadline passed without a renew")
			return
		case <-renew.C:
			timer.Stop()
			if t.renew(ctx, deadline) {
				return
			}
		}
	}
}
