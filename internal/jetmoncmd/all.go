package jetmoncmd

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/natsd"
)

// allCmd runs every role in one process around an embedded NATS server: the
// default for a laptop or a small install.
func allCmd(env cli.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "all",
		Short: "Run every role in one process with an embedded NATS server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := cli.NewRuntime(cmd, env, "all")
			if err != nil {
				return err
			}
			ns, err := embeddedNATS(rt)
			if err != nil {
				return err
			}
			parts := map[string]cli.Runner{"ops": rt.Ops, "nats-server": ns}
			for _, add := range []cli.AddFunc{addCoordinator, cli.AddProber, cli.AddVeriflier, addDeliverer, addAPI} {
				if err := add(cmd.Context(), rt, parts); err != nil {
					return err
				}
			}
			parts["announce"] = cli.RunnerFunc(func(ctx context.Context) error {
				if err := ns.WaitReady(ctx); err != nil {
					return nil //nolint:nilerr // the nats-server part reports its own failure
				}
				nats := ns.ClientURL()
				if nats == "" {
					nats = "in-process only"
				}
				apiAddr := rt.Config.APIAddr
				if a, ok := parts["api"].(*api.Server); ok {
					apiAddr = a.Addr()
				}
				rt.Logger.Info("jetmon all is up",
					"api", "http://"+apiAddr+"/api/v1/health",
					"metrics", "http://"+rt.Ops.Addr()+"/metrics",
					"nats", nats)
				return nil
			})
			return cli.RunParts(cmd.Context(), rt.Logger, rt.Config.ShutdownTimeout, parts)
		},
	}
}

func embeddedNATS(rt *cli.Runtime) (*natsd.Server, error) {
	opts := natsd.Opts{
		StoreDir:        rt.Config.NATS.StoreDir,
		ServerName:      "jetmon-" + rt.Config.NodeID,
		Logger:          rt.Logger,
		ShutdownTimeout: rt.Config.ShutdownTimeout,
		NoListen:        rt.Config.NATS.EmbeddedAddr == "",
	}
	if !opts.NoListen {
		host, port, err := net.SplitHostPort(rt.Config.NATS.EmbeddedAddr)
		if err != nil {
			return nil, fmt.Errorf("NATS_EMBEDDED_ADDR: %w", err)
		}
		if opts.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("NATS_EMBEDDED_ADDR port %q: %w", port, err)
		}
		opts.Host = host
	}
	ns, err := natsd.New(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	return ns, nil
}
