package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"
)

// Request/reply defaults.
const (
	// DefaultRequestTimeout bounds a Call or Check whose ctx has no deadline.
	DefaultRequestTimeout = 10 * time.Second
	// defaultWorkers is how many requests one server handles at once.
	defaultWorkers = 4
	// requestBuffer is how many received requests wait for a worker.
	requestBuffer = 64
)

// serveOpts describes one request/reply service.
type serveOpts struct {
	nc      *nats.Conn
	subject string
	queue   string // "" for a plain subscription
	workers int
	logger  *slog.Logger
	// handle answers one request and returns the reply to send; nil sends
	// none.
	handle func(ctx context.Context, m *nats.Msg) []byte
	// dropOnStop leaves requests still queued at stop unanswered instead of
	// answering CodeUnavailable (for callers that treat silence as "no
	// answer" rather than waiting for an envelope).
	dropOnStop bool
}

// serve subscribes and answers requests with o.workers workers until ctx
// ends. Then it unsubscribes, answers requests that were still queued with
// CodeUnavailable (so their callers retry elsewhere at once; with
// o.dropOnStop it drops them), and waits for running handlers, which see
// ctx's end.
func serve(ctx context.Context, o serveOpts) error {
	msgs := make(chan *nats.Msg, requestBuffer)
	var (
		sub *nats.Subscription
		err error
	)
	if o.queue != "" {
		sub, err = o.nc.ChanQueueSubscribe(o.subject, o.queue, msgs)
	} else {
		sub, err = o.nc.ChanSubscribe(o.subject, msgs)
	}
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", o.subject, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	for range max(o.workers, 1) {
		g.Go(func() error {
			for {
				select {
				case <-gctx.Done():
					return nil
				case m := <-msgs:
					respond(o.logger, m, o.handle(gctx, m))
				}
			}
		})
	}
	<-ctx.Done()
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		o.logger.Warn("unsubscribe", "subject", o.subject, "err", err)
	}
	_ = g.Wait() // workers return nil

	var unavailable []byte // nil: queued requests are dropped
	if !o.dropOnStop {
		unavailable, _ = EncodeCommandReply(nil, &CommandError{Code: CodeUnavailable, Message: "server stopping"})
	}
	for {
		select {
		case m := <-msgs:
			respond(o.logger, m, unavailable)
		default:
			return nil
		}
	}
}

// respond sends reply to m's reply subject, if it has one and reply is
// not nil.
func respond(logger *slog.Logger, m *nats.Msg, reply []byte) {
	if m.Reply == "" || reply == nil {
		return
	}
	if err := m.Respond(reply); err != nil {
		logger.Warn("reply", "subject", m.Subject, "err", err)
	}
}

// request sends a request and returns the reply's data (command reply
// envelope). When nobody answers (no responders, a timeout) or the server
// replies CodeUnavailable, the error wraps unavailable; any other reply with
// ok=false is a *CommandError. A ctx without deadline gets
// DefaultRequestTimeout.
func request(ctx context.Context, nc *nats.Conn, subject string, payload []byte, unavailable error) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
	msg, err := nc.RequestWithContext(ctx, subject, payload)
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded),
		// This node's own connection is down: nobody saw the request.
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting):
		return nil, fmt.Errorf("%w: %s: %w", unavailable, subject, err)
	case err != nil:
		return nil, fmt.Errorf("request %s: %w", subject, err)
	}
	data, err := DecodeCommandReply(msg.Data)
	if ce, ok := errors.AsType[*CommandError](err); ok && ce.Code == CodeUnavailable {
		return nil, fmt.Errorf("%w: %s: %w", unavailable, subject, err)
	}
	return data, err
}
