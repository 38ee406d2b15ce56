package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Term is one period of leadership won by Elector.Campaign. Its methods
// match coordinator.Term.
type Term struct {
	epoch  uint64
	leader Leader
	kv     jetstream.KeyValue
	value  []byte
	ttl    time.Duration
	logger *slog.Logger

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{} // closed by Resign: Run stops renewing
	stopOnce sync.Once
	kept     chan struct{} // closed when Run stopped renewing

	mu       sync.Mutex
	rev      uint64    // the lease's current revision
	renewed  time.Time // when the last successful write was sent (monotonic)
	resigned bool
}

// Epoch is the lease revision that began the term: strictly greater than
// every earlier term's.
func (t *Term) Epoch() uint64 { return t.epoch }

// Leader is the lease value of the term.
func (t *Term) Leader() Leader { return t.leader }

// Lost is closed when the term ends: a renew found the lease gone or taken,
// the local deadline passed before a renew succeeded, the term was
// resigned, or Elector.Run stopped.
func (t *Term) Lost() <-chan struct{} { return t.lost }

// Resign ends the term: it stops the renewals and deletes the lease on the
// condition that it still holds this term's last revision, so it cannot
// remove a successor's lease. A standby takes over at once. Calling it
// again, or after the term was lost, is harmless.
func (t *Term) Resign(ctx context.Context) error {
	t.stopOnce.Do(func() { close(t.stop) })
	select {
	case <-t.kept:
	case <-ctx.Done():
		return fmt.Errorf("resign: %w", context.Cause(ctx))
	}
	return t.resign(ctx)
}

func (t *Term) markLost() { t.lostOnce.Do(func() { close(t.lost) }) }

// deadline is when the term must consider itself lost without a renew: the
// server expires the lease TTL after the last write it stored, and this
// process's clock may run slow against the server's, hence the margin.
func (t *Term) deadline() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.renewed.Add(t.ttl - t.ttl/5)
}

// renew writes the lease once with a revision check and reports whether
// the term is lost.
func (t *Term) renew(ctx context.Context, deadline time.Time) (lost bool) {
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	t.mu.Lock()
	rev := t.rev
	t.mu.Unlock()
	sent := time.Now()
	next, err := t.kv.Update(rctx, LeaderKey, t.value, rev)
	switch {
	case err == nil:
		t.mu.Lock()
		t.rev, t.renewed = next, sent
		t.mu.Unlock()
		return false
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound):
		t.logger.Warn("elector: lease lost: it expired or another node holds it", "err", err)
		return true
	case !time.Now().Before(deadline):
		t.logger.Warn("elector: lease lost: local deadline passed during a renew", "err", err)
		return true
	default:
		t.logger.Warn("elector: renew lease", "err", err)
		return false
	}
}

// resign marks the term lost and deletes the lease if it is still this
// term's. A renew that was cut short may still have been stored, under a
// revision the term never learnt: the lease is then found by its value.
func (t *Term) resign(ctx context.Context) error {
	t.markLost()
	t.mu.Lock()
	if t.resigned {
		t.mu.Unlock()
		return nil
	}
	t.resigned = true
	rev := t.rev
	t.mu.Unlock()
	err := t.kv.Delete(ctx, LeaderKey, jetstream.LastRevision(rev))
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return wrapResign(err)
	}
	cur, err := t.kv.Get(ctx, LeaderKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil // expired or deleted already
	}
	if err != nil {
		return wrapResign(err)
	}
	if cur.Revision() <= rev || !bytes.Equal(cur.Value(), t.value) {
		return nil // a successor's lease
	}
	return wrapResign(t.kv.Delete(ctx, LeaderKey, jetstream.LastRevision(cur.Revision())))
}

func wrapResign(err error) error {
	if err != nil {
		return fmt.Errorf("resign lease: %w", err)
	}
	return nil
}

// CurrentLeader returns the lease holder and the lease's current revision,
// or ErrNoLeader. It reads with a direct get that may be stale: for
// display (`jetmon mesh status`), never for decisions.
func CurrentLeader(ctx context.Context, js jetstream.JetStream) (Leader, uint64, error) {
	kv, err := js.KeyValue(ctx, KVLeader)
	if err != nil {
		return Leader{}, 0, fmt.Errorf("current leader: %w", err)
	}
	e, err := kv.Get(ctx, LeaderKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Leader{}, 0, ErrNoLeader
	}
	if err != nil {
		return Leader{}, 0, fmt.Errorf("current leader: %w", err)
	}
	l, err := DecodeLeader(e.Value())
	if err != nil {
		return Leader{}, 0, err
	}
	return l, e.Revision(), nil
}
