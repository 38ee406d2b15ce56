package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// dbKey is the node's shared MySQL pool.
const dbKey = "mysql"

// openDB opens the process's pool once; the node closes it after every role
// has stopped.
func openDB(ctx context.Context, rt *cli.Runtime, node *cli.Node) (*sql.DB, error) {
	if existing, ok := node.Shared(dbKey); ok {
		return existing.(*sql.DB), nil //nolint:forcetypeassert // only openDB shares dbKey
	}
	openCtx, cancel := context.WithTimeout(ctx, rt.Config.NetCommsTimeout)
	defer cancel()
	db, err := sqlstore.Open(openCtx, rt.Config.DB.ConnString(), sqlstore.PoolOpts{Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("mysql %s: %w", rt.Config.DB.Display(), err)
	}
	node.Share(dbKey, db, db.Close)
	rt.Ops.AddReadyCheck("mysql", func() error {
		pingCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rt.Config.NetCommsTimeout)
		defer cancel()
		return db.PingContext(pingCtx)
	})
	return db, nil
}

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
