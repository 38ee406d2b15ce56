package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults and bounds of WorkQueueOpts.
const (
	DefaultDrainTimeout = 30 * time.Second
	maxWorkers          = 256
	// drainGrace is how long handlers get to return after their context
	// was cancelled at the end of the drain.
	drainGrace = time.Second
	// healthySession is how long a consume session must last for the next
	// restart to start again from the shortest backoff.
	healthySession = watchBackoffMax
)

// WorkMsg is one message of a work queue as a handler sees it. The funcs
// settle it; exactly one of Ack, Nak or Term should be called (a second
// returns an error wrapping jetstream.ErrMsgAlreadyAckd), Progress any
// number of times before. Ack waits for the server; Nak, Term and
// Progress do not (a lost one means a redelivery after AckWait, which
// idempotent handlers absorb), they fail only on a cancelled ctx or a
// closed connection.
type WorkMsg struct {
	Subject     string
	Data        []byte
	Header      map[string][]string
	StreamSeq   uint64    // stable across redeliveries
	Delivered   uint64    // 1 on the first delivery
	PublishedAt time.Time // when the stream stored it

	// Ack acknowledges the message and waits for the server's
	// confirmation: on a work-queue stream the message is then gone.
	Ack func(ctx context.Context) error
	// Nak asks for a redelivery after delay (0: at once). It counts as a
	// delivery against the consumer's MaxDeliver.
	Nak func(ctx context.Context, delay time.Duration) error
	// Term stops redelivery for good; on a work-queue stream it removes
	// the message, so record anything worth keeping first. reason appears
	// in the server's terminated advisory.
	Term func(ctx context.Context, reason string) error
	// Progress resets the ack deadline (AckWait) during long work.
	Progress func(ctx context.Context) error
}

// WorkQueueOpts configures a WorkQueue.
type WorkQueueOpts struct {
	// Workers is how many messages are handled at once, default 1, at most
	// 256. Each worker pulls one message at a time, so nothing waits in the
	// client's buffer while its AckWait runs.
	Workers int
	// DrainTimeout bounds how long in-flight handlers may run on after
	// Consume's ctx ended; default 30s.
	DrainTimeout time.Duration
	Logger       *slog.Logger
}

// WorkQueue consumes one durable pull consumer of JETMON_DELIVERY (or, for
// the dead-letter mover, JETMON_DEAD_LETTERS) with a bounded pool of
// workers. Any number of processes may consume the same consumer: each
// message goes to one of them.
type WorkQueue struct {
	js       jetstream.JetStream
	stream   string
	consumer string
	o        WorkQueueOpts
}

// NewWorkQueue returns a WorkQueue on consumer of JETMON_DELIVERY (one of
// DeliveryConsumers); it validates o and does no I/O.
func NewWorkQueue(js jetstream.JetStream, consumer string, o WorkQueueOpts) (*WorkQueue, error) {
	return newWorkQueue(js, StreamDelivery, consumer, o)
}

func newWorkQueue(js jetstream.JetStream, stream, consumer string, o WorkQueueOpts) (*WorkQueue, error) {
	if js == nil {
		return nil, errors.New("work queue: jetstream is required")
	}
	if !keyToken.MatchString(consumer) {
		return nil, fmt.Errorf("work queue: consumer %q must match %s", consumer, keyToken)
	}
	o.Workers = cmpOr(o.Workers, 1)
	o.DrainTimeout = cmpOr(o.DrainTimeout, DefaultDrainTimeout)
	if o.Workers < 1 || o.Workers > maxWorkers || o.DrainTimeout < 0 {
		return nil, fmt.Errorf("work queue %s: workers %d must be 1-%d and drain timeout %v >= 0",
			consumer, o.Workers, maxWorkers, o.DrainTimeout)
	}
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler)).With("stream", stream, "consumer", consumer)
	return &WorkQueue{js: js, stream: stream, consumer: consumer, o: o}, nil
}

// Consume hands every message of the consumer to handle, on up to Workers
// goroutines at once, until ctx ends. handle settles each message (WorkMsg
// Ack, Nak or Term); one it leaves unsettled is redelivered after AckWait.
//
// It waits for the consumer to exist, and consumes again (with backoff)
// whenever the server ends a consume session: the consumer was deleted or
// recreated, or the connection closed. Reconnects are handled inside a
// session.
//
// When ctx ends it stops pulling, gives back (Nak) any message that
// arrives meanwhile, and waits for the running handlers. Their context
// stays alive for DrainTimeout after ctx ended, then is cancelled. Consume
// returns nil once they have returned, or an error if they are still
// running shortly after; also an error if the connection is closed for
// good.
func (q *WorkQueue) Consume(ctx context.Context, handle func(context.Context, WorkMsg)) error {
	if handle == nil {
		return fmt.Errorf("work queue %s: handle is required", q.consumer)
	}
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	var bo backoff
	for ctx.Err() == nil {
		if q.js.Conn().IsClosed() {
			return fmt.Errorf("work queue %s: %w", q.consumer, nats.ErrConnectionClosed)
		}
		began := time.Now()
		s, err := q.start(ctx, hctx, handle)
		if err != nil {
			q.o.Logger.Warn("work queue: start consuming", "err", err)
			sleep(ctx, bo.next())
			continue
		}
		select {
		case <-ctx.Done():
			return q.drain(s, cancelHandlers)
		case <-s.ended:
		}
		s.stop()
		select {
		case <-ctx.Done():
			return q.drain(s, cancelHandlers)
		case <-s.done:
		}
		if time.Since(began) > healthySession {
			bo.reset()
		}
		q.o.Logger.Warn("work queue: consume session ended; consuming again")
		sleep(ctx, bo.next())
	}
	return nil
}

// start looks the consumer up and opens one consume session per worker,
// each pulling one message at a time.
func (q *WorkQueue) start(ctx, hctx context.Context, handle func(context.Context, WorkMsg)) (*session, error) {
	cons, err := q.js.Consumer(ctx, q.stream, q.consumer)
	if err != nil {
		return nil, fmt.Errorf("consumer %s/%s: %w", q.stream, q.consumer, err)
	}
	deliver := func(m jetstream.Msg) { q.deliver(ctx, hctx, m, handle) }
	onErr := jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		q.o.Logger.Warn("work queue: consume", "err", err)
	})
	ccs := make([]jetstream.ConsumeContext, 0, q.o.Workers)
	for range q.o.Workers {
		cc, err := cons.Consume(deliver, jetstream.PullMaxMessages(1), onErr)
		if err != nil {
			for _, c := range ccs {
				c.Stop()
			}
			return nil, fmt.Errorf("consume %s/%s: %w", q.stream, q.consumer, err)
		}
		ccs = append(ccs, cc)
	}
	return newSession(ccs), nil
}

// deliver runs on a consume session's goroutine: handle runs synchronously,
// so the session pulls its next message only when the worker is free.
func (q *WorkQueue) deliver(ctx, hctx context.Context, m jetstream.Msg, handle func(context.Context, WorkMsg)) {
	if ctx.Err() != nil {
		// Arrived while draining: give it back for another consumer now
		// rather than after AckWait.
		if err := m.Nak(); err != nil {
			q.o.Logger.Warn("work queue: give back message", "err", err)
		}
		return
	}
	wm, err := newWorkMsg(m)
	if err != nil {
		q.o.Logger.Warn("work queue: message without metadata", "subject", m.Subject(), "err", err)
		return
	}
	handle(hctx, wm)
}

// drain ends s after ctx ended: in-flight handlers get DrainTimeout, then
// their context is cancelled and they get drainGrace to return.
func (q *WorkQueue) drain(s *session, cancelHandlers context.CancelFunc) error {
	s.drain()
	timer := time.NewTimer(q.o.DrainTimeout)
	defer timer.Stop()
	select {
	case <-s.done:
		return nil
	case <-timer.C:
	}
	q.o.Logger.Warn("work queue: handlers still running at the drain timeout; cancelling them",
		"drain_timeout", q.o.DrainTimeout)
	cancelHandlers()
	timer.Reset(drainGrace)
	select {
	case <-s.done:
		return nil
	case <-timer.C:
		return fmt.Errorf("work queue %s: handlers still running %v after the drain timeout",
			q.consumer, drainGrace)
	}
}

// session is the consume contexts of one start.
type session struct {
	ccs   []jetstream.ConsumeContext
	ended chan struct{} // closed when the first context has closed
	done  chan struct{} // closed when every context has closed (no handler runs)
}

// newSession watches ccs until every one of them has closed.
func newSession(ccs []jetstream.ConsumeContext) *session {
	s := &session{ccs: ccs, ended: make(chan struct{}), done: make(chan struct{})}
	var (
		first sync.Once
		open  atomic.Int64
	)
	open.Store(int64(len(ccs)))
	for _, cc := range ccs {
		go func() {
			<-cc.Closed()
			first.Do(func() { close(s.ended) })
			if open.Add(-1) == 0 {
				close(s.done)
			}
		}()
	}
	return s
}

// stop ends every context at once; running handlers finish.
func (s *session) stop() {
	for _, cc := range s.ccs {
		cc.Stop()
	}
}

// drain ends every context after the messages already received.
func (s *session) drain() {
	for _, cc := range s.ccs {
		cc.Drain()
	}
}

// newWorkMsg wraps m.
func newWorkMsg(m jetstream.Msg) (WorkMsg, error) {
	md, err := m.Metadata()
	if err != nil {
		return WorkMsg{}, fmt.Errorf("metadata: %w", err)
	}
	seq := md.Sequence.Stream
	settled := func(op string, err error) error {
		if err != nil {
			return fmt.Errorf("%s %s #%d: %w", op, m.Subject(), seq, err)
		}
		return nil
	}
	return WorkMsg{
		Subject: m.Subject(), Data: m.Data(), Header: map[string][]string(m.Headers()),
		StreamSeq: seq, Delivered: md.NumDelivered, PublishedAt: md.Timestamp.UTC(),
		Ack: func(ctx context.Context) error { return settled("ack", m.DoubleAck(ctx)) },
		Nak: func(ctx context.Context, delay time.Duration) error {
			if err := ctx.Err(); err != nil {
				return settled("nak", err)
			}
			if delay <= 0 {
				return settled("nak", m.Nak())
			}
			return settled("nak", m.NakWithDelay(delay))
		},
		Term: func(ctx context.Context, reason string) error {
			if err := ctx.Err(); err != nil {
				return settled("term", err)
			}
			return settled("term", m.TermWithReason(truncate(reason, maxTermReason)))
		},
		Progress: func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return settled("progress", err)
			}
			return settled("progress", m.InProgress())
		},
	}, nil
}

// maxTermReason bounds the reason a Term carries into the advisory.
const maxTermReason = 256
