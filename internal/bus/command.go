package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/nats-io/nats.go"
)

// ErrCoordinatorUnavailable means no coordinator answered a command: no
// leader is serving (no responders), it did not answer in time, or it is
// stopping. Retry later.
var ErrCoordinatorUnavailable = errors.New("coordinator unavailable")

// verbPattern is a command verb: dot-separated subject tokens, no
// wildcards.
var verbPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// coordinatorQueue is the queue group of command servers: during a
// handover old and new leader may both serve for a moment, and only one of
// them answers each request.
const coordinatorQueue = "coordinator"

// CommandHandler answers one command verb's payload with reply data (JSON,
// or nil). An error becomes a failed reply: its code is the error's own
// when it is a *CommandError or has a `Code() string` method, else
// CodeInternal.
type CommandHandler func(ctx context.Context, payload []byte) ([]byte, error)

// CommandServerOpts configures a CommandServer.
type CommandServerOpts struct {
	Workers int // commands handled at once, default 4
	Logger  *slog.Logger
}

// CommandServer serves jetmon.cmd.coordinator.<verb>.
type CommandServer struct {
	nc *nats.Conn
	o  CommandServerOpts
}

// NewCommandServer validates o; it does no I/O.
func NewCommandServer(nc *nats.Conn, o CommandServerOpts) (*CommandServer, error) {
	if nc == nil {
		return nil, errors.New("command server: connection is required")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("command server: workers %d < 0", o.Workers)
	}
	o.Workers = cmpOr(o.Workers, defaultWorkers)
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler)).With("component", "command_server")
	return &CommandServer{nc: nc, o: o}, nil
}

// ServeCommands answers every verb under jetmon.cmd.coordinator. with
// handlers[verb] (CodeUnknownVerb for others) until ctx ends; the
// coordinator calls it for the length of its term. It subscribes only
// while it runs, so without a leader callers get ErrCoordinatorUnavailable
// at once. It returns nil when ctx ends, after the running handlers
// returned.
func (s *CommandServer) ServeCommands(ctx context.Context, handlers map[string]CommandHandler) error {
	prefix := CoordinatorSubject("")
	return serve(ctx, serveOpts{
		nc: s.nc, subject: prefix + ">", queue: coordinatorQueue, workers: s.o.Workers, logger: s.o.Logger,
		handle: func(ctx context.Context, m *nats.Msg) []byte {
			verb := strings.TrimPrefix(m.Subject, prefix)
			h, ok := handlers[verb]
			if !ok {
				return s.reply(nil, &CommandError{Code: CodeUnknownVerb, Message: fmt.Sprintf("no handler for %q", verb)})
			}
			data, err := h(ctx, m.Data)
			if err != nil {
				s.o.Logger.Warn("command failed", "verb", verb, "err", err)
				return s.reply(nil, commandErrorOf(err))
			}
			return s.reply(data, nil)
		},
	})
}

// reply encodes a reply; data that is not JSON becomes CodeInternal.
func (s *CommandServer) reply(data []byte, cerr *CommandError) []byte {
	b, err := EncodeCommandReply(data, cerr)
	if err != nil {
		s.o.Logger.Warn("command reply", "err", err)
		b, _ = EncodeCommandReply(nil, &CommandError{Code: CodeInternal, Message: "handler reply is not JSON"})
	}
	return b
}

// CommandClient sends commands to the coordinator leader.
type CommandClient struct {
	nc *nats.Conn
}

// NewCommandClient returns a CommandClient on nc.
func NewCommandClient(nc *nats.Conn) (*CommandClient, error) {
	if nc == nil {
		return nil, errors.New("command client: connection is required")
	}
	return &CommandClient{nc: nc}, nil
}

// Call sends payload to the leader's verb and returns the reply data (nil
// when the reply has none). Errors: ErrCoordinatorUnavailable (wrapped)
// when no leader answered; a *CommandError when the leader refused or
// failed. ctx bounds the wait (DefaultRequestTimeout without a deadline).
func (c *CommandClient) Call(ctx context.Context, verb string, payload []byte) ([]byte, error) {
	if !verbPattern.MatchString(verb) {
		return nil, fmt.Errorf("command %q: not a verb", verb)
	}
	return request(ctx, c.nc, CoordinatorSubject(verb), payload, ErrCoordinatorUnavailable)
}
