package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/prober"
	"github.com/jetmon-mesh/jetmon/veriflier"
)

// AddProber wires the prober role into parts.
func AddProber(_ context.Context, rt *Runtime, parts map[string]Runner) error {
	p, err := prober.New(prober.Opts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("prober: %w", err)
	}
	parts["prober"] = p
	return nil
}

// AddVeriflier wires the veriflier role into parts.
func AddVeriflier(_ context.Context, rt *Runtime, parts map[string]Runner) error {
	v, err := veriflier.New(veriflier.Opts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("veriflier: %w", err)
	}
	parts["veriflier"] = v
	return nil
}

// AddFunc wires one role (and what it needs) into a process's parts.
type AddFunc func(ctx context.Context, rt *Runtime, parts map[string]Runner) error

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
			parts := map[string]Runner{
				"ops":  rt.Ops,
				"nats": ConnRunner{Conn: nc, Timeout: rt.Config.ShutdownTimeout},
			}
			if err := add(cmd.Context(), rt, parts); err != nil {
				nc.Close()
				return err
			}
			return RunParts(cmd.Context(), rt.Logger, rt.Config.ShutdownTimeout, parts)
		},
	}
}
