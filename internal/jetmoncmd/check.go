package jetmoncmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/internal/checkreport"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// checkFlags are a site's check options on the command line.
type checkFlags struct {
	keyword, redirectPolicy, resolver, sourceAddr, caBundle, userAgent, output string
	forbidden, headers                                                         []string
	timeout                                                                    time.Duration
}

// checkCmd runs one check from this machine and prints everything the monitor
// would see: the answer to "why does the monitor think my site is down?".
func checkCmd(_ cli.Env) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check URL",
		Short: "Check one URL as a prober would and print the result (exit 1 when the check fails)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output != "text" && f.output != "json" {
				return fmt.Errorf("--output %q: must be text or json", f.output)
			}
			spec, err := f.spec(args[0])
			if err != nil {
				return err
			}
			checker, err := check.New(check.Opts{
				Timeout: f.timeout, UserAgent: f.userAgent, CABundle: f.caBundle,
				DNSResolver: f.resolver, SourceAddr: f.sourceAddr,
			})
			if err != nil {
				return fmt.Errorf("checker: %w", err)
			}
			res := checker.Check(cmd.Context(), spec)
			report := checkreport.FromResult(res)
			if f.output == "json" {
				err = checkreport.WriteJSON(cmd.OutOrStdout(), report)
			} else {
				err = checkreport.WriteText(cmd.OutOrStdout(), report)
			}
			if err != nil {
				return fmt.Errorf("print result: %w", err)
			}
			if res.IsFailure() {
				return cli.ErrReported
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.keyword, "keyword", "", "text the body must contain")
	fl.StringSliceVar(&f.forbidden, "forbidden", nil, "text the body must not contain (repeatable, up to 20)")
	fl.StringArrayVar(&f.headers, "header", nil, `request header "Name: value" (repeatable; may override User-Agent)`)
	fl.DurationVar(&f.timeout, "timeout", check.DefaultTimeout, "check timeout")
	fl.StringVar(&f.redirectPolicy, "redirect-policy", "follow", "follow, alert (follow and report a changed final URL) or fail")
	fl.StringVar(&f.resolver, "resolver", "", "DNS server host:port (default: the system resolver)")
	fl.StringVar(&f.sourceAddr, "source-addr", "", "local IP address to dial from")
	fl.StringVar(&f.caBundle, "ca-bundle", "", "PEM file of extra trusted CAs (e.g. jetmon testsite's ca.pem)")
	fl.StringVar(&f.userAgent, "user-agent", check.DefaultUserAgent, "User-Agent header")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	return cmd
}

func (f checkFlags) spec(url string) (uptime.CheckSpec, error) {
	policy, err := uptime.ParseRedirectPolicy(f.redirectPolicy)
	if err != nil {
		return uptime.CheckSpec{}, fmt.Errorf("--redirect-policy: %w", err)
	}
	headers := map[string]string{}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return uptime.CheckSpec{}, fmt.Errorf(`--header %q: want "Name: value"`, h)
		}
		headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	spec := uptime.CheckSpec{
		URL: url, Timeout: f.timeout, Keyword: f.keyword, ForbiddenKeywords: f.forbidden,
		Headers: headers, RedirectPolicy: policy,
	}
	if err := check.ValidateSpec(spec); err != nil {
		return uptime.CheckSpec{}, fmt.Errorf("check options: %w", err)
	}
	return spec, nil
}
