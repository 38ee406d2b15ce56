package jetmoncmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
)

// dbConnectAttempts is how often validate-config tries the database, as
// Jetmon's validate-config did.
const dbConnectAttempts = 3

// validateConfigCmd checks the config and the database and prints what the
// processes will run with, in the line format operators grep for.
func validateConfigCmd(env cli.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate-config",
		Short: "Validate the config and database connection and print the effective settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := &printer{w: cmd.OutOrStdout()}
			errOut := &printer{w: cmd.ErrOrStderr()}
			cfg, err := config.Load(cli.ConfigPath(cmd, env), env.Getenv)
			if err != nil {
				errOut.printf("FAIL config parse: %v", err)
				return errors.Join(cli.ErrReported, errOut.err)
			}
			out.printf("PASS config parse")
			for _, w := range cfg.Warnings {
				out.printf("WARN %s", w)
			}
			if err := pingDB(cmd.Context(), cfg); err != nil {
				errOut.printf("FAIL db connect: %s: %v", cfg.DB.Display(), err)
				return errors.Join(cli.ErrReported, errOut.err)
			}
			out.printf("PASS db connect")
			for _, line := range settingLines(cfg) {
				out.printf("%s", line)
			}
			out.printf("")
			out.printf("validation passed")
			return out.err
		},
	}
}

func pingDB(ctx context.Context, cfg config.Config) error {
	db, err := openDBWithRetry(ctx, cfg, 1)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// printer writes lines and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	if _, err := fmt.Fprintf(p.w, format+"\n", args...); err != nil {
		p.err = fmt.Errorf("write output: %w", err)
	}
}

// settingLines is one INFO (or WARN) line per setting group.
func settingLines(c config.Config) []string {
	lines := []string{
		"INFO " + c.ProjectionLine(),
		"INFO " + c.EmailLine(),
	}
	if warn := c.EmailStubWarning(); warn != "" {
		lines = append(lines, "WARN "+warn)
	}
	nats := fmt.Sprintf("INFO nats_url=%s replicas=%d", c.NATS.URL, c.NATS.Replicas)
	if c.NATS.URL == "" {
		nats = fmt.Sprintf("INFO nats=embedded (jetmon all) listen=%q store_dir=%s replicas=%d; single roles need NATS_URL",
			c.NATS.EmbeddedAddr, c.NATS.StoreDir, c.NATS.Replicas)
	}
	lines = append(lines,
		fmt.Sprintf("INFO node_id=%s region=%s capacity=%d", c.NodeID, c.Region, c.Capacity),
		nats,
		fmt.Sprintf("INFO rollout_range=%d-%d bucket_total=%d", c.RolloutBucketMin, c.RolloutBucketMax, c.BucketTotal),
		fmt.Sprintf("INFO coordinator leader_ttl=%s node_ttl=%s site_sync_interval=%s site_full_sync=%s history_success_sample=%s",
			c.LeaderTTL, c.NodeTTL, c.SiteSyncInterval, c.SiteFullSync, c.HistorySuccessSample),
		fmt.Sprintf("INFO confirmation num_of_checks=%d time_between_checks=%s peer_offline_limit=%d",
			c.NumOfChecks, c.TimeBetweenChecks, c.PeerOfflineLimit),
		fmt.Sprintf("INFO prober max_concurrent_checks=%d min_check_interval=%s result_buffer=%d net_comms_timeout=%s",
			c.MaxConcurrentChecks, c.MinCheckInterval, c.ResultBuffer, c.NetCommsTimeout),
		fmt.Sprintf("INFO deliverer retry_schedule=%s alert_cooldown=%s wpcom_notify=%s",
			schedule(c.RetrySchedule), c.AlertCooldown, enabled(c.WPCOMNotify)),
		fmt.Sprintf("INFO api_addr=%s ops_addr=%s", c.APIAddr, c.OpsAddr),
	)
	return lines
}

func schedule(steps []time.Duration) string {
	parts := make([]string, len(steps))
	for i, d := range steps {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

func enabled(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}
