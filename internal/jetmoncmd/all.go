package jetmoncmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/natsd"
)

// allRoles are the roles `jetmon all` runs, coordinator first so the streams
// and buckets exist before the others watch them.
func allRoles() []cli.AddFunc {
	return []cli.AddFunc{addCoordinator, cli.AddProber, cli.AddVeriflier, addDeliverer, addAPI}
}

// allCmd runs every role in one process around an embedded NATS server: the
// default for a laptop or a small install.
func allCmd(env cli.Env) *cobra.Command {
	var withDemo bool
	cmd := &cobra.Command{
		Use:   "all",
		Short: "Run every role in one process with an embedded NATS server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := cli.NewRuntime(cmd, env, "all")
			if err != nil {
				return err
			}
			var demoOut io.Writer // the demo prints its API key and curl lines here
			if withDemo {
				applyDemoTimings(rt)
				demoOut = env.Stdout
			}
			ns, err := embeddedNATS(rt)
			if err != nil {
				return err
			}
			parts := map[string]cli.Runner{
				"ops":  rt.Ops,
				"mesh": cli.RunnerFunc(func(ctx context.Context) error { return runWithServer(ctx, rt, ns, demoOut) }),
			}
			return cli.RunParts(cmd.Context(), rt.Logger, rt.Config.ShutdownTimeout, parts)
		},
	}
	cmd.Flags().BoolVar(&withDemo, "demo", false, "also serve demo sites on a local target fleet, add verifliers of two more regions, and take one site down and back up")
	return cmd
}

// runWithServer runs the embedded NATS server around the mesh: the server
// stops only after every role has drained (so a coordinator can still resign
// and nodes delete their presence), and a server failure stops the mesh.
// demoOut is nil without the demo.
func runWithServer(ctx context.Context, rt *cli.Runtime, ns *natsd.Server, demoOut io.Writer) error {
	meshCtx, stopMesh := context.WithCancel(ctx)
	defer stopMesh()
	serverCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	serverDone := make(chan error, 1)
	go func() {
		err := ns.Run(serverCtx)
		if err != nil {
			stopMesh()
		}
		serverDone <- err
	}()
	meshErr := runMesh(meshCtx, rt, ns, demoOut)
	stopServer()
	if err := <-serverDone; err != nil {
		return errors.Join(meshErr, fmt.Errorf("embedded nats: %w", err))
	}
	return meshErr
}

// runMesh waits for the embedded server, connects in-process, wires every
// role (and the demo when demoOut is set) and runs them until ctx ends.
func runMesh(ctx context.Context, rt *cli.Runtime, ns *natsd.Server, demoOut io.Writer) error {
	if err := ns.WaitReady(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("embedded nats: %w", err)
	}
	nc, err := ns.Connect(cli.ClientOptions(rt.Config, "all", rt.Logger)...)
	if err != nil {
		return fmt.Errorf("embedded nats: %w", err)
	}
	node, err := cli.NewNode(nc, rt.Config.ShutdownTimeout)
	if err != nil {
		nc.Close()
		return err
	}
	for _, add := range allRoles() {
		if err := add(ctx, rt, node); err != nil {
			node.Abort()
			return err
		}
	}
	if demoOut != nil {
		if err := addDemo(ctx, rt, ns, node, demoOut); err != nil {
			node.Abort()
			return err
		}
	}
	announce(rt, ns, node)
	return node.Run(ctx)
}

// announce logs where everything listens.
func announce(rt *cli.Runtime, ns *natsd.Server, node *cli.Node) {
	apiAddr := rt.Config.APIAddr
	if part, ok := node.Part("api"); ok {
		if a, ok := part.(*api.Server); ok {
			apiAddr = a.Addr()
		}
	}
	natsURL := ns.ClientURL()
	if natsURL == "" {
		natsURL = "in-process only"
	}
	rt.Logger.Info("jetmon all is up",
		"api", "http://"+apiAddr+"/api/v1/health",
		"metrics", "http://"+rt.Ops.Addr()+"/metrics",
		"nats", natsURL)
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

// addDemo adds the demo and its webhook receiver to the node; it shares the
// node's MySQL pool and prints the API's demo key and curl lines to out.
func addDemo(ctx context.Context, rt *cli.Runtime, ns *natsd.Server, node *cli.Node, out io.Writer) error {
	db, err := openDB(ctx, rt, node)
	if err != nil {
		return err
	}
	receiver, err := addDemoReceiver(ctx, rt, node, db)
	if err != nil {
		return err
	}
	apiAddr := rt.Config.APIAddr
	if part, ok := node.Part("api"); ok {
		if a, ok := part.(*api.Server); ok {
			apiAddr = a.Addr()
		}
	}
	d, err := newDemo(rt, ns, db, demoAPI{out: out, addr: apiAddr, hookURL: receiver.URLFor("yours")})
	if err != nil {
		return err
	}
	node.Add("demo", d)
	return nil
}
