package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/obs"
)

// Runtime is what every long-running command starts from.
type Runtime struct {
	Version  string
	Config   config.Config
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Ops      *obs.OpsServer
}

// NewRuntime loads config, builds the logger and the process's registry,
// binds the ops server, and logs the startup lines every role shares.
func NewRuntime(cmd *cobra.Command, env Env, role string) (*Runtime, error) {
	cfg, err := config.Load(ConfigPath(cmd, env), env.Getenv)
	if err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	logger, err := obs.NewLogger(env.Stderr, cfg.LogFormat, cfg.Debug)
	if err != nil {
		return nil, fmt.Errorf("logger: %w", err)
	}
	logger = logger.With("node_id", cfg.NodeID)
	LogStartup(logger, cfg, role)
	return RuntimeFor(cmd.Context(), cfg, logger, env.Version, role)
}

// RuntimeFor builds a runtime from an already loaded config: a fresh
// registry and a bound ops server. Tests use it to wire roles directly.
func RuntimeFor(ctx context.Context, cfg config.Config, logger *slog.Logger, version, role string) (*Runtime, error) {
	reg := obs.NewRegistry(obs.Build{Version: version, Role: role})
	ops, err := obs.NewOpsServer(obs.OpsOpts{Addr: cfg.OpsAddr, Gatherer: reg, Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout})
	if err != nil {
		return nil, fmt.Errorf("ops server: %w", err)
	}
	if err := ops.Listen(ctx); err != nil {
		return nil, err
	}
	return &Runtime{Version: version, Config: cfg, Logger: logger, Registry: reg, Ops: ops}, nil
}

// LogStartup logs the config lines every role prints at startup, the same
// lines `jetmon validate-config` prints. The email transport line is logged
// by the wiring of the senders, in the processes that can send email.
func LogStartup(logger *slog.Logger, cfg config.Config, role string) {
	logger.Info("starting", "role", role, "region", cfg.Region)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	logger.Info("config: " + cfg.ProjectionLine())
}
