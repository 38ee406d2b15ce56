package jetmoncmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/obs"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
)

// migrateCmd applies the embedded schema migrations; re-running is a no-op.
func migrateCmd(env cli.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database schema migrations (safe to re-run; concurrent runs wait for a lock)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cli.ConfigPath(cmd, env), env.Getenv)
			if err != nil {
				return fmt.Errorf("invalid config: %w", err)
			}
			logger, err := obs.NewLogger(env.Stderr, cfg.LogFormat, cfg.Debug)
			if err != nil {
				return fmt.Errorf("logger: %w", err)
			}
			if create, _ := cmd.Flags().GetBool("create-database"); create {
				if err := createDatabase(cmd.Context(), cfg); err != nil {
					return err
				}
			}
			res, err := sqlstore.Migrate(cmd.Context(), cfg.DB.ConnString(), logger)
			if err != nil {
				return fmt.Errorf("migrate %s: %w", cfg.DB.Display(), err)
			}
			out := cmd.OutOrStdout()
			if res.From == res.To {
				_, err = fmt.Fprintf(out, "schema up to date at version %d\n", res.To)
			} else {
				_, err = fmt.Fprintf(out, "schema migrated from version %d to %d\n", res.From, res.To)
			}
			return err
		},
	}
	cmd.Flags().Bool("create-database", false, "create the configured database first when it does not exist")
	return cmd
}

func createDatabase(ctx context.Context, cfg config.Config) error {
	parsed, err := mysql.ParseDSN(cfg.DB.ConnString())
	if err != nil {
		return fmt.Errorf("database DSN: %w", err)
	}
	if parsed.DBName == "" {
		return errors.New("the database DSN names no database")
	}
	if err := sqlstore.EnsureDatabase(ctx, cfg.DB.ConnString(), parsed.DBName); err != nil {
		return fmt.Errorf("create database %s: %w", parsed.DBName, err)
	}
	return nil
}
