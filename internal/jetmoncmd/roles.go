package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/coordinator"
	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
)

// dbKey is the parts-map key of the process's shared database pool.
const dbKey = "mysql"

// dbRunner owns the process's MySQL pool and closes it on shutdown.
type dbRunner struct{ db *sql.DB }

func (d dbRunner) Run(ctx context.Context) error {
	<-ctx.Done()
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close mysql: %w", err)
	}
	return nil
}

// openDB opens the pool once per process and registers its closer.
func openDB(ctx context.Context, rt *cli.Runtime, parts map[string]cli.Runner) (*sql.DB, error) {
	if existing, ok := parts[dbKey].(dbRunner); ok {
		return existing.db, nil
	}
	openCtx, cancel := context.WithTimeout(ctx, rt.Config.NetCommsTimeout)
	defer cancel()
	db, err := sqlstore.Open(openCtx, rt.Config.DB.ConnString(), sqlstore.PoolOpts{Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("mysql %s: %w", rt.Config.DB.Display(), err)
	}
	parts[dbKey] = dbRunner{db: db}
	rt.Ops.AddReadyCheck("mysql", func() error {
		pingCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rt.Config.NetCommsTimeout)
		defer cancel()
		return db.PingContext(pingCtx)
	})
	return db, nil
}

func addCoordinator(ctx context.Context, rt *cli.Runtime, parts map[string]cli.Runner) error {
	if _, err := openDB(ctx, rt, parts); err != nil {
		return err
	}
	c, err := coordinator.New(coordinator.Opts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	parts["coordinator"] = c
	return nil
}

func addDeliverer(ctx context.Context, rt *cli.Runtime, parts map[string]cli.Runner) error {
	if _, err := openDB(ctx, rt, parts); err != nil {
		return err
	}
	d, err := deliverer.New(deliverer.Opts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, Logger: rt.Logger,
		Registerer: rt.Registry, ShutdownTimeout: rt.Config.ShutdownTimeout,
	})
	if err != nil {
		return fmt.Errorf("deliverer: %w", err)
	}
	parts["deliverer"] = d
	return nil
}

func addAPI(ctx context.Context, rt *cli.Runtime, parts map[string]cli.Runner) error {
	if _, err := openDB(ctx, rt, parts); err != nil {
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
	parts["api"] = a
	return nil
}
