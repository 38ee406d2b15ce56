package jetmoncmd

import (
	"context"
	"fmt"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func addDeliverer(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
	if _, err := openDB(ctx, rt, node); err != nil {
		return err
	}
	d, err := deliverer.New(deliverer.Opts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("deliverer: %w", err)
	}
	node.Add("deliverer", d)
	return cli.AddPresence(rt, node, uptime.RoleDeliverer, nil)
}
