package cli

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/prober"
	"github.com/jetmon-mesh/jetmon/uptime"
	"github.com/jetmon-mesh/jetmon/veriflier"
)

// AddFunc wires one role (and what it needs) into a process's node.
type AddFunc func(ctx context.Context, rt *Runtime, node *Node) error

// AddPresence keeps this node's <role>.<node_id> key alive in JETMON_NODES.
func AddPresence(rt *Runtime, node *Node, role string, stats func() map[string]int64) error {
	p, err := bus.NewPresence(node.JS, bus.PresenceOpts{
		Role: role, NodeID: rt.Config.NodeID, Region: rt.Config.Region, Version: rt.Version,
		Capacity: rt.Config.Capacity, TTL: rt.Config.NodeTTL, Stats: stats, Logger: rt.Logger,
	})
	if err != nil {
		return fmt.Errorf("%s presence: %w", role, err)
	}
	node.Add("presence-"+role, p)
	return nil
}

// NewChecker builds the HTTP checker from config, sized so checks never wait
// for a connection slot.
func NewChecker(rt *Runtime) (*check.Checker, error) {
	c := rt.Config
	checker, err := check.New(check.Opts{
		Timeout: c.NetCommsTimeout, UserAgent: c.UserAgent, CABundle: c.CABundle,
		DNSResolver: c.DNSResolver, SourceAddr: c.SourceAddr, MaxConns: c.MaxConcurrentChecks + onDemandConns,
	})
	if err != nil {
		return nil, fmt.Errorf("checker: %w", err)
	}
	return checker, nil
}

// onDemandConns are connections beyond MAX_CONCURRENT_CHECKS for on-demand
// checks, which run outside the scheduler's bound.
const onDemandConns = 16

// AddProber wires the prober role: assignment and site watches, the checker,
// result publishing, on-demand checks and presence.
func AddProber(_ context.Context, rt *Runtime, node *Node) error {
	checker, err := NewChecker(rt)
	if err != nil {
		return err
	}
	p, err := newProber(rt, node.JS, node.Conn, checker)
	if err != nil {
		return err
	}
	node.Add("prober", p)
	return AddPresence(rt, node, uptime.RoleProber, p.Stats)
}

func newProber(rt *Runtime, js jetstream.JetStream, nc *nats.Conn, checker prober.Checker) (*prober.Prober, error) {
	c := rt.Config
	assignments, err := bus.NewAssignmentWatcher(js, bus.AssignmentWatcherOpts{Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("prober: %w", err)
	}
	sites, err := bus.NewSiteWatcher(js, bus.SiteWatcherOpts[prober.SiteEvent]{
		Event:  func(e bus.SiteEvent) prober.SiteEvent { return prober.SiteEvent(e) },
		Logger: rt.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("prober: %w", err)
	}
	publisher, err := bus.NewResultPublisher(js, bus.ResultPublisherOpts{Region: c.Region, NodeID: c.NodeID})
	if err != nil {
		return nil, fmt.Errorf("prober: %w", err)
	}
	checks, err := bus.NewCheckServer(nc, bus.CheckServerOpts{Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("prober: %w", err)
	}
	p, err := prober.New(prober.Opts{
		NodeID: c.NodeID, Region: c.Region, Logger: rt.Logger, Registerer: rt.Registry,
		ShutdownTimeout: c.ShutdownTimeout, Assignments: assignments, Sites: sites,
		Publisher: publisher, Checker: checker, CheckServer: checks,
		MinCheckInterval: c.MinCheckInterval, TimeBetweenChecks: c.TimeBetweenChecks,
		NumOfChecks: c.NumOfChecks, MaxConcurrentChecks: c.MaxConcurrentChecks, ResultBuffer: c.ResultBuffer,
	})
	if err != nil {
		return nil, fmt.Errorf("prober: %w", err)
	}
	return p, nil
}

// AddVeriflier wires the veriflier role (the checker, and vote requests on
// jetmon.verify.<region>) and its presence.
func AddVeriflier(_ context.Context, rt *Runtime, node *Node) error {
	checker, err := NewChecker(rt)
	if err != nil {
		return fmt.Errorf("veriflier: %w", err)
	}
	// A regional outage asks for many votes at once: answer them with as
	// many checks at a time as a prober runs.
	server, err := bus.NewVerifyServer(node.Conn, bus.VerifyServerOpts{
		Workers: rt.Config.MaxConcurrentChecks, Logger: rt.Logger,
	})
	if err != nil {
		return fmt.Errorf("veriflier: %w", err)
	}
	v, err := veriflier.New(veriflier.Opts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
		Server: server, Checker: checker,
	})
	if err != nil {
		return fmt.Errorf("veriflier: %w", err)
	}
	node.Add("veriflier", v)
	return AddPresence(rt, node, uptime.RoleVeriflier, nil)
}

// ProberCmd runs the prober role against the NATS at NATS_URL.
func ProberCmd(env Env) *cobra.Command {
	return RoleCmd(env, "prober", "Run a prober: check the sites of the buckets assigned to this node", AddProber)
}

// VeriflierCmd runs the veriflier role against the NATS at NATS_URL.
func VeriflierCmd(env Env) *cobra.Command {
	return RoleCmd(env, "veriflier", "Run a veriflier: answer confirmation requests for this region", AddVeriflier)
}

// RoleCmd builds the command of one role that joins an external NATS:
// runtime, NATS connection, the role, and the ops server in one errgroup.
func RoleCmd(env Env, role, short string, add AddFunc) *cobra.Command {
	return &cobra.Command{
		Use:   role,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := NewRuntime(cmd, env, role)
			if err != nil {
				return err
			}
			nc, err := ConnectNATS(rt.Config, role, rt.Logger)
			if err != nil {
				return err
			}
			node, err := NewNode(nc, rt.Config.ShutdownTimeout)
			if err != nil {
				nc.Close()
				return err
			}
			if err := add(cmd.Context(), rt, node); err != nil {
				node.Abort()
				return err
			}
			return RunParts(cmd.Context(), rt.Logger, rt.Config.ShutdownTimeout, map[string]Runner{"ops": rt.Ops, role: node})
		},
	}
}
