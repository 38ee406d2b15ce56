package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
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
