package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/driftreport"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// rolloutCmd groups the checks of a migration from Jetmon v1/v2.
func rolloutCmd(env cli.Env) *cobra.Command {
	rollout := &cobra.Command{Use: "rollout", Short: "Checks for a rollout from Jetmon v1/v2"}
	rollout.AddCommand(projectionDriftCmd(env))
	return rollout
}

// driftFlags are the flags of `rollout projection-drift`.
type driftFlags struct {
	bucketMin, bucketMax, limit int
	output                      string
}

// driftRun is one run of the report: where the config comes from and the
// resolved flags (nil bucket bounds: not given).
type driftRun struct {
	configPath           string
	getenv               func(string) string
	bucketMin, bucketMax *int
	limit                int
}

// projectionDriftCmd reports active sites whose legacy site_status
// disagrees with their open HTTP events. It only reads.
func projectionDriftCmd(env cli.Env) *cobra.Command {
	var f driftFlags
	cmd := &cobra.Command{
		Use:   "projection-drift",
		Short: "Report active sites whose legacy site_status disagrees with their open HTTP events (exit 1 when any does)",
		Long: "Read-only. Compares jetpack_monitor_sites.site_status of every active site in the bucket range " +
			"(default ROLLOUT_BUCKET_MIN-ROLLOUT_BUCKET_MAX) with the value its open HTTP events imply, and prints " +
			"a summary by bucket and likely cause with operator guidance, then the drifting rows. It never repairs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := driftreport.ParseFormat(f.output)
			if err != nil {
				return err
			}
			if f.limit <= 0 {
				return fmt.Errorf("--limit %d: must be > 0", f.limit)
			}
			e := runProjectionDrift(cmd.Context(), driftRun{
				configPath: cli.ConfigPath(cmd, env), getenv: env.Getenv, limit: f.limit,
				bucketMin: changedInt(cmd, "bucket-min", f.bucketMin), bucketMax: changedInt(cmd, "bucket-max", f.bucketMax),
			})
			if err := driftreport.Emit(cmd.OutOrStdout(), cmd.ErrOrStderr(), format, e); err != nil {
				return err
			}
			if !e.OK {
				return cli.ErrReported
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.bucketMin, "bucket-min", 0, "first bucket (with --bucket-max; default ROLLOUT_BUCKET_MIN)")
	fl.IntVar(&f.bucketMax, "bucket-max", 0, "last bucket, inclusive (with --bucket-min; default ROLLOUT_BUCKET_MAX)")
	fl.IntVar(&f.limit, "limit", driftreport.DefaultLimit, "most drift rows to list")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	return cmd
}

// changedInt is the flag's value when it was given, else nil.
func changedInt(cmd *cobra.Command, name string, v int) *int {
	if !cmd.Flags().Changed(name) {
		return nil
	}
	return &v
}

// runProjectionDrift loads the config, connects and builds the report. Every
// failure ends up in the envelope, after the lines printed so far.
func runProjectionDrift(ctx context.Context, run driftRun) driftreport.Envelope {
	e := driftreport.Envelope{Command: driftreport.Command, GeneratedAt: time.Now().UTC()}
	fail := func(err error) driftreport.Envelope {
		e.Failures = append(e.Failures, err.Error())
		return e
	}
	pass := func(msg string) {
		e.Lines = append(e.Lines, driftreport.Line{Level: driftreport.LevelPass, Message: msg})
	}
	cfg, err := config.Load(run.configPath, run.getenv)
	if err != nil {
		return fail(fmt.Errorf("config parse: %w", err))
	}
	pass("config parse")
	r, err := driftreport.ResolveRange(run.bucketMin, run.bucketMax,
		uptime.BucketRange{Min: cfg.RolloutBucketMin, Max: cfg.RolloutBucketMax}, cfg.BucketTotal)
	if err != nil {
		return fail(err)
	}
	db, err := openDBWithRetry(ctx, cfg, 2)
	if err != nil {
		return fail(fmt.Errorf("db connect: %s: %w", cfg.DB.Display(), err))
	}
	defer func() { _ = db.Close() }()
	pass("db connect")
	reader, err := sqlstore.NewDriftReader(db)
	if err != nil {
		return fail(err)
	}
	rep, err := driftreport.Build(ctx, reader, r, run.limit)
	e.Lines = append(e.Lines, rep.Lines...)
	if err == nil {
		err = rep.Failure()
	}
	if err != nil {
		return fail(err)
	}
	e.OK = true
	return e
}

// openDBWithRetry opens a small pool, trying dbConnectAttempts times a
// second apart, as Jetmon's rollout commands did.
func openDBWithRetry(ctx context.Context, cfg config.Config, maxConns int) (*sql.DB, error) {
	var err error
	for attempt := 1; attempt <= dbConnectAttempts; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		db, openErr := sqlstore.Open(attemptCtx, cfg.DB.ConnString(), sqlstore.PoolOpts{MaxOpenConns: maxConns})
		cancel()
		if openErr == nil {
			return db, nil
		}
		err = openErr
		if attempt < dbConnectAttempts {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w (%w)", err, ctx.Err())
			case <-time.After(time.Second):
			}
		}
	}
	return nil, fmt.Errorf("%d attempts: %w", dbConnectAttempts, err)
}
