package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/meshstatus"
	"github.com/jetmon-mesh/jetmon/internal/obs"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// statusTimeout bounds one `mesh status` snapshot.
const statusTimeout = 10 * time.Second

func meshCmd(env cli.Env) *cobra.Command {
	mesh := &cobra.Command{Use: "mesh", Short: "Inspect the mesh"}
	var output string
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the leader and epoch, live nodes, the assignment table, unassigned buckets and the results backlog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: must be text or json", output)
			}
			cfg, err := config.Load(cli.ConfigPath(cmd, env), env.Getenv)
			if err != nil {
				return fmt.Errorf("invalid config: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), statusTimeout)
			defer cancel()
			s, err := collectStatus(ctx, cfg, env)
			if err != nil {
				return err
			}
			if output == "json" {
				return meshstatus.WriteJSON(cmd.OutOrStdout(), s)
			}
			return meshstatus.WriteText(cmd.OutOrStdout(), s)
		},
	}
	status.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	mesh.AddCommand(status)
	return mesh
}

// collectStatus connects to NATS_URL, or to the embedded server of a
// running `jetmon all` when NATS_URL is empty.
func collectStatus(ctx context.Context, cfg config.Config, env cli.Env) (meshstatus.Status, error) {
	url := cfg.NATS.URL
	if url == "" {
		url = "nats://" + cfg.NATS.EmbeddedAddr
	}
	logger, err := obs.NewLogger(env.Stderr, cfg.LogFormat, cfg.Debug)
	if err != nil {
		return meshstatus.Status{}, fmt.Errorf("logger: %w", err)
	}
	opts := append(cli.ClientOptions(cfg, "status", logger), nats.MaxReconnects(0))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return meshstatus.Status{}, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	defer nc.Close()
	node, err := cli.NewNode(nc, time.Second)
	if err != nil {
		return meshstatus.Status{}, err
	}
	return meshstatus.Collect(ctx, node.JS, meshstatus.Opts{
		Rollout: uptime.BucketRange{Min: cfg.RolloutBucketMin, Max: cfg.RolloutBucketMax},
		Epoch:   func(ctx context.Context) (uint64, error) { return fencingEpoch(ctx, cfg) },
	}), nil
}

func fencingEpoch(ctx context.Context, cfg config.Config) (uint64, error) {
	db, err := sqlstore.Open(ctx, cfg.DB.ConnString(), sqlstore.PoolOpts{MaxOpenConns: 1})
	if err != nil {
		return 0, fmt.Errorf("mysql %s: %w", cfg.DB.Display(), err)
	}
	defer func(db *sql.DB) { _ = db.Close() }(db)
	epoch, _, err := sqlstore.NewFence(db).CurrentEpoch(ctx)
	return epoch, err
}
