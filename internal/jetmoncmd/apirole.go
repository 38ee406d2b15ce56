package jetmoncmd

import (
	"context"
	"fmt"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func addAPI(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
	if _, err := openDB(ctx, rt, node); err != nil {
		return err
	}
	a, err := api.New(api.Opts{
		Addr: rt.Config.APIAddr, Version: rt.Version, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	if err := a.Listen(ctx); err != nil {
		return err
	}
	node.Add("api", a)
	return cli.AddPresence(rt, node, uptime.RoleAPI, nil)
}
