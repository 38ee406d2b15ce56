package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/natsd"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Demo timings: fast enough that a new user sees an outage confirmed and
// cleared within two minutes of `make run`.
const (
	demoCheckInterval  = 10 * time.Second
	demoRecheck        = 5 * time.Second
	demoHealthyFor     = 20 * time.Second
	demoDownFor        = 60 * time.Second
	demoCycle          = 4 * time.Minute
	demoFirstBlogID    = 900001
	demoFlakySite      = "flaky"
	demoVerifierPrefix = "demo-veriflier-"
)

// demoRegions are the veriflier regions the demo adds beside the process's own.
func demoRegions() []string { return []string{"demo-b", "demo-c"} }

// demo runs `jetmon all --demo`: a target fleet, demo sites in MySQL,
// verifliers of two more regions, a site that goes down and comes back, and a
// log line per incident transition.
type demo struct {
	rt    *cli.Runtime
	ns    *natsd.Server
	db    *sql.DB
	fleet *testsite.Fleet
	api   demoAPI
	log   *slog.Logger
}

// demoAPI is where the demo prints its API key and curl lines (out), the
// API's address, and the receiver URL the webhook curl line registers.
type demoAPI struct {
	out     io.Writer
	addr    string
	hookURL string
}

// applyDemoTimings shortens the check cadence for the demo.
func applyDemoTimings(rt *cli.Runtime) {
	rt.Config.MinCheckInterval = demoCheckInterval
	rt.Config.TimeBetweenChecks = demoRecheck
	rt.Logger.Info("demo: checking every site every 10 s, re-checking failures every 5 s")
}

func newDemo(rt *cli.Runtime, ns *natsd.Server, db *sql.DB, a demoAPI) (*demo, error) {
	// The fleet's CA lives beside the embedded NATS store (.local/demo by
	// default), so a demo's local state is in one place.
	caDir := filepath.Join(filepath.Dir(rt.Config.NATS.StoreDir), "demo")
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", CADir: caDir, Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("demo fleet: %w", err)
	}
	return &demo{rt: rt, ns: ns, db: db, fleet: fleet, api: a, log: rt.Logger.With("component", "demo")}, nil
}

// Run serves the fleet and drives the demo until ctx ends.
func (d *demo) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.fleet.Run(gctx) })
	g.Go(func() error {
		if err := d.fleet.WaitReady(gctx); err != nil {
			return nil //nolint:nilerr // the fleet part reports its own failure
		}
		if err := d.seed(gctx); err != nil {
			return err
		}
		if err := d.printAPI(gctx); err != nil {
			return err
		}
		for _, region := range demoRegions() {
			g.Go(func() error { return d.runVeriflier(gctx, region) })
		}
		g.Go(func() error { return d.logTransitions(gctx) })
		return d.flap(gctx)
	})
	return g.Wait() //nolint:wrapcheck // the demo's parts wrap their own errors
}

// seed writes the demo sites, spread over the rollout range.
func (d *demo) seed(ctx context.Context) error {
	names := []string{"home", "shop", "blog", "news", demoFlakySite}
	sites := make([]uptime.Site, len(names))
	r := d.rt.Config
	for i, name := range names {
		sites[i] = uptime.Site{
			BlogID: demoFirstBlogID + int64(i),
			Bucket: r.RolloutBucketMin + i*(r.RolloutBucketMax-r.RolloutBucketMin)/len(names),
			Spec:   uptime.CheckSpec{URL: d.fleet.URL(name)},
		}
	}
	if err := sqlstore.ReplaceSites(ctx, d.db, sites); err != nil {
		return fmt.Errorf("demo sites: %w", err)
	}
	d.log.Info("demo: sites added", "count", len(sites), "blog_ids", fmt.Sprintf("%d-%d", demoFirstBlogID, demoFirstBlogID+len(sites)-1),
		"fleet", d.fleet.Info().ControlURL)
	return nil
}

// printAPI mints the demo's admin key and prints it with curl lines that
// work as printed (on stdout, so they can be copied without log quoting).
func (d *demo) printAPI(ctx context.Context) error {
	token, err := ensureDemoAPIKey(ctx, d.db)
	if err != nil {
		return err
	}
	lines := append([]string{"", "# Jetmon demo: admin API key " + token + " (this run only; earlier demo keys are revoked)"},
		demoCurlLines(d.api.addr, token, d.api.hookURL)...)
	if _, err := io.WriteString(d.api.out, strings.Join(lines, "\n")+"\n\n"); err != nil {
		return fmt.Errorf("demo: print api lines: %w", err)
	}
	d.log.Info("demo: API key and curl lines printed on stdout", "api", "http://"+d.api.addr+"/api/v1")
	return nil
}

// runVeriflier runs one veriflier of another region over an in-process
// connection, with its own metrics registry.
func (d *demo) runVeriflier(ctx context.Context, region string) error {
	cfg := d.rt.Config
	cfg.Region, cfg.NodeID = region, demoVerifierPrefix+region
	rt := &cli.Runtime{Version: d.rt.Version, Config: cfg, Logger: d.rt.Logger.With("demo_region", region), Registry: prometheus.NewRegistry()}
	nc, err := d.ns.Connect(cli.ClientOptions(cfg, "veriflier", rt.Logger)...)
	if err != nil {
		return fmt.Errorf("demo veriflier %s: %w", region, err)
	}
	node, err := cli.NewNode(nc, cfg.ShutdownTimeout)
	if err != nil {
		nc.Close()
		return err
	}
	if err := cli.AddVeriflier(ctx, rt, node); err != nil {
		node.Abort()
		return err
	}
	return node.Run(ctx)
}

// flap takes the flaky site down and brings it back, every demoCycle.
func (d *demo) flap(ctx context.Context) error {
	for {
		if !sleep(ctx, demoHealthyFor) {
			return nil
		}
		if err := d.fleet.Set(demoFlakySite, testsite.Behaviour{Kind: testsite.KindStatus, Status: 503}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		d.log.Info("demo: site flaky now answers 503; expect Seems Down, then Down after confirmation", "url", d.fleet.URL(demoFlakySite))
		if !sleep(ctx, demoDownFor) {
			return nil
		}
		if err := d.fleet.Set(demoFlakySite, testsite.Behaviour{}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		d.log.Info("demo: site flaky is healthy again; expect the incident to close")
		if !sleep(ctx, demoCycle-demoHealthyFor-demoDownFor) {
			return nil
		}
	}
}

// logTransitions logs every transition published for delivery.
func (d *demo) logTransitions(ctx context.Context) error {
	nc, err := d.ns.Connect(cli.ClientOptions(d.rt.Config, "demo", d.log)...)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer nc.Close()
	sub, err := nc.Subscribe(bus.SubjectDeliverTransition, func(m *nats.Msg) {
		msg, err := bus.DecodeTransitionMessage(m.Data)
		if err != nil {
			d.log.Warn("demo: undecodable transition", "err", err)
			return
		}
		tr := msg.Transition
		from := string(tr.StateBefore)
		if from == "" {
			from = "(new)"
		}
		d.log.Info("demo: transition", "blog_id", tr.BlogID, "event_id", tr.EventID, "check_type", tr.CheckType,
			"reason", tr.Reason, "state", from+" -> "+string(tr.StateAfter), "source", tr.Source,
			"votes", len(msg.Votes), "notify", tr.Notify.Notify, "suppressed", tr.Notify.Suppressed)
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	<-ctx.Done()
	_ = sub.Unsubscribe()
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
