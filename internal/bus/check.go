package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ErrProberUnavailable means the addressed prober did not answer an
// on-demand check: it is not running (no responders), did not answer in
// time, or is stopping.
var ErrProberUnavailable = errors.New("prober unavailable")

// CheckServerOpts configures a CheckServer.
type CheckServerOpts struct {
	Workers int // checks run at once, default 4
	Logger  *slog.Logger
}

// CheckServer answers on-demand checks on jetmon.cmd.prober.<node_id>.check.
type CheckServer struct {
	nc *nats.Conn
	o  CheckServerOpts
}

// NewCheckServer validates o; it does no I/O.
func NewCheckServer(nc *nats.Conn, o CheckServerOpts) (*CheckServer, error) {
	if nc == nil {
		return nil, errors.New("check server: connection is required")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("check server: workers %d < 0", o.Workers)
	}
	o.Workers = cmpOr(o.Workers, defaultWorkers)
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler)).With("component", "check_server")
	return &CheckServer{nc: nc, o: o}, nil
}

// ServeChecks runs handle for every check request addressed to nodeID and
// replies with its result (a request that does not decode gets
// CodeBadRequest) until ctx ends; then it returns nil after running checks
// returned.
func (s *CheckServer) ServeChecks(ctx context.Context, nodeID string, handle func(ctx context.Context, spec uptime.CheckSpec) uptime.Result) error {
	if !keyToken.MatchString(nodeID) {
		return fmt.Errorf("serve checks: node id %q must match %s", nodeID, keyToken)
	}
	return serve(ctx, serveOpts{
		nc: s.nc, subject: ProberCheckSubject(nodeID), workers: s.o.Workers, logger: s.o.Logger,
		handle: func(ctx context.Context, m *nats.Msg) []byte {
			spec, err := DecodeCheckRequest(m.Data)
			var reply []byte
			if err == nil {
				reply, err = EncodeCheckReply(handle(ctx, spec))
			} else {
				reply, err = EncodeCommandReply(nil, &CommandError{Code: CodeBadRequest, Message: err.Error()})
			}
			if err != nil {
				s.o.Logger.Warn("check reply", "err", err)
				reply, _ = EncodeCommandReply(nil, &CommandError{Code: CodeInternal, Message: "encode reply"})
			}
			return reply
		},
	})
}

// CheckClient asks a prober for an on-demand check.
type CheckClient struct {
	nc *nats.Conn
}

// NewCheckClient returns a CheckClient on nc.
func NewCheckClient(nc *nats.Conn) (*CheckClient, error) {
	if nc == nil {
		return nil, errors.New("check client: connection is required")
	}
	return &CheckClient{nc: nc}, nil
}

// Check asks prober nodeID to check spec now and returns the result.
// Errors: ErrProberUnavailable (wrapped) when the prober did not answer; a
// *CommandError when it refused the request. Give ctx a deadline beyond
// the check's timeout (DefaultRequestTimeout without one).
func (c *CheckClient) Check(ctx context.Context, nodeID string, spec uptime.CheckSpec) (uptime.Result, error) {
	if !keyToken.MatchString(nodeID) {
		return uptime.Result{}, fmt.Errorf("check: node id %q must match %s", nodeID, keyToken)
	}
	req, err := EncodeCheckRequest(spec)
	if err != nil {
		return uptime.Result{}, err
	}
	subject := ProberCheckSubject(nodeID)
	data, err := request(ctx, c.nc, subject, req, ErrProberUnavailable)
	if err != nil {
		return uptime.Result{}, err
	}
	return decodeCheckResult(data)
}
