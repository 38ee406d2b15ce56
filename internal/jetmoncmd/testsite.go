package jetmoncmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/obs"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

// testsiteCmd serves a local target fleet for tests, demos and benchmarks
// (docs/testsite.md).
func testsiteCmd(env cli.Env) *cobra.Command {
	var opts testsite.Opts
	var siteAddrs []string
	var logFormat string
	cmd := &cobra.Command{
		Use:   "testsite",
		Short: "Serve a local fleet of target sites whose behaviour is switchable at runtime",
		Long: "Serve many target sites from one process (by Host header or /s/<site>/ path), each with a\n" +
			"behaviour switchable at runtime through the control API under /_control/. See docs/testsite.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := obs.NewLogger(env.Stderr, logFormat, false)
			if err != nil {
				return err
			}
			opts.Logger = logger
			if opts.SiteAddrs, err = parseSiteAddrs(siteAddrs); err != nil {
				return err
			}
			fleet, err := testsite.New(opts)
			if err != nil {
				return fmt.Errorf("testsite: %w", err)
			}
			announce := cli.RunnerFunc(func(ctx context.Context) error {
				if err := fleet.WaitReady(ctx); err != nil {
					return nil //nolint:nilerr // the fleet part reports its own failure
				}
				info, err := json.MarshalIndent(fleet.Info(), "", "  ")
				if err != nil {
					return fmt.Errorf("testsite info: %w", err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", info)
				return err
			})
			return cli.RunParts(cmd.Context(), logger, opts.ShutdownTimeout,
				map[string]cli.Runner{"testsite": fleet, "announce": announce})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Addr, "addr", testsite.DefaultAddr, "main listener (sites by Host header or /s/<site>/ path)")
	f.StringVar(&opts.ControlAddr, "control-addr", "", "serve the control API only on this address (default: /_control/ on every listener)")
	f.StringVar(&opts.TLSAddr, "tls-addr", "127.0.0.1:8443", "HTTPS listener for the TLS variants (empty: none)")
	f.StringSliceVar(&opts.ExtraAddrs, "extra-addr", nil, "more addresses serving the same sites (repeatable)")
	f.StringSliceVar(&siteAddrs, "site-addr", nil, "give a site its own listener: site=host:port (repeatable)")
	f.StringVar(&opts.CADir, "ca-dir", ".local/testsite", "where to write ca.pem (trust it with CA_BUNDLE)")
	f.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", testsite.DefaultShutdownTimeout, "drain budget on Ctrl-C")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

func parseSiteAddrs(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		site, addr, ok := strings.Cut(p, "=")
		if !ok || site == "" || addr == "" {
			return nil, fmt.Errorf("--site-addr %q: want site=host:port", p)
		}
		out[site] = addr
	}
	return out, nil
}
