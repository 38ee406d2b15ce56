package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/coordinator"
	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// backlogInterval is how often the results backlog gauge is refreshed.
const backlogInterval = 5 * time.Second

// assetOpts sizes the mesh's streams and buckets from config.
func assetOpts(c config.Config) bus.AssetOpts {
	return bus.AssetOpts{Replicas: c.NATS.Replicas, NodeTTL: c.NodeTTL, LeaderTTL: c.LeaderTTL,
		// Longer than the slowest send, so a job is not redelivered while
		// its first deliverer still waits on the receiver.
		DeliveryAckWait: 2 * c.DeliveryTimeout}
}

// addCoordinator creates the mesh's streams and buckets (idempotent), then
// wires the coordinator to NATS and MySQL through its ports.
func addCoordinator(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
	db, err := openDB(ctx, rt, node)
	if err != nil {
		return err
	}
	js := node.JS
	if err := bus.EnsureAssets(ctx, js, assetOpts(rt.Config)); err != nil {
		return fmt.Errorf("create streams and buckets: %w", err)
	}
	elector, err := bus.NewElector(js, bus.ElectorOpts{
		NodeID: rt.Config.NodeID, Region: rt.Config.Region, TTL: rt.Config.LeaderTTL, Logger: rt.Logger,
	})
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	opts, err := coordinatorPorts(rt, js, node.Conn, db)
	if err != nil {
		return err
	}
	if err := incidentPorts(rt, js, node.Conn, db, &opts); err != nil {
		return err
	}
	opts.Elector = electorAdapter{elector}
	c, err := coordinator.New(opts)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	backlog, err := backlogGauge(rt, js)
	if err != nil {
		return err
	}
	node.Add("elector", elector)
	node.Add("coordinator", c)
	node.Add("results-backlog", backlog)
	return cli.AddPresence(rt, node, uptime.RoleCoordinator, nil)
}

// coordinatorPorts builds every port but the elector.
func coordinatorPorts(rt *cli.Runtime, js jetstream.JetStream, nc *nats.Conn, db *sql.DB) (coordinator.Opts, error) {
	c := rt.Config
	directory, err := bus.NewDirectory(js, bus.DirectoryOpts{Logger: rt.Logger})
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	assignments, err := bus.NewAssignments(js, bus.AssignmentsOpts{Logger: rt.Logger})
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	mirror, err := bus.NewSiteMirror(js)
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	sites, err := sqlstore.NewSites(db, sqlstore.SitesOpts{Logger: rt.Logger})
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	malformed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jetmon_coordinator_results_malformed_total",
		Help: "Result messages terminated because they could not be decoded.",
	})
	if err := rt.Registry.Register(malformed); err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator metrics: %w", err)
	}
	results, err := bus.NewResultConsumer(js, bus.ResultConsumerOpts{
		Logger: rt.Logger, OnMalformed: func(uint64, error) { malformed.Inc() },
	})
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	ingest, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{Logger: rt.Logger})
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	commands, err := bus.NewCommandServer(nc, bus.CommandServerOpts{Logger: rt.Logger})
	if err != nil {
		return coordinator.Opts{}, fmt.Errorf("coordinator: %w", err)
	}
	ingestStore := streamAwareIngest{ingestAdapter: ingestAdapter{in: ingest, events: events(rt, db)}, js: js, log: rt.Logger}
	return coordinator.Opts{
		NodeID: c.NodeID, Region: c.Region, Logger: rt.Logger, Registerer: rt.Registry,
		ShutdownTimeout: c.ShutdownTimeout, Fence: fenceAdapter{sqlstore.NewFence(db)},
		Directory: directory, Assignments: assignments, SiteMirror: mirrorAdapter{mirror},
		SiteSource: sourceAdapter{sites}, Results: resultsAdapter{results},
		Ingest:           ingestStore,
		Commands:         commandsAdapter{commands},
		RolloutRange:     uptime.BucketRange{Min: c.RolloutBucketMin, Max: c.RolloutBucketMax},
		SiteSyncInterval: c.SiteSyncInterval, SiteFullSync: c.SiteFullSync,
		HistorySuccessSample: c.HistorySuccessSample,
	}, nil
}

// events is the node's event writer (LEGACY_STATUS_PROJECTION_ENABLE).
func events(rt *cli.Runtime, db *sql.DB) eventWriter {
	return eventWriter{db: db, projection: rt.Config.LegacyStatusProjection, logger: rt.Logger}
}

// incidentPorts adds the ports and policy of incident decisions to opts:
// verifliers, the event store, the outbox relay's publisher, on-demand
// checks and the drift count.
func incidentPorts(rt *cli.Runtime, js jetstream.JetStream, nc *nats.Conn, db *sql.DB, opts *coordinator.Opts) error {
	c := rt.Config
	verifier, err := bus.NewVerifier(nc, bus.VerifierOpts{Logger: rt.Logger})
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	publisher, err := bus.NewTransitionPublisher(js)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	checks, err := bus.NewCheckClient(nc)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	w := events(rt, db)
	opts.Verifier, opts.Publisher, opts.Prober = verifier, publisher, checks
	opts.Incidents, opts.Outbox, opts.Drift = incidentAdapter{w}, outboxAdapter{w}, driftAdapter{db}
	opts.Events = incidentAdapter{w}
	opts.Policy = incident.Policy{NumOfChecks: c.NumOfChecks, PeerOfflineLimit: c.PeerOfflineLimit,
		AlertCooldown: c.AlertCooldown}
	opts.CheckTimeout = c.NetCommsTimeout
	return nil
}

// backlogGauge reports how many results wait for (or are being processed
// by) the coordinator consumer: jetmon_coordinator_results_pending.
func backlogGauge(rt *cli.Runtime, js jetstream.JetStream) (cli.Runner, error) {
	pending := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_coordinator_results_pending",
		Help: "Results in JETMON_RESULTS not yet acknowledged by the coordinator consumer.",
	})
	if err := rt.Registry.Register(pending); err != nil {
		return nil, fmt.Errorf("coordinator metrics: %w", err)
	}
	return cli.RunnerFunc(func(ctx context.Context) error {
		tick := time.NewTicker(backlogInterval)
		defer tick.Stop()
		for {
			if cons, err := js.Consumer(ctx, bus.StreamResults, bus.ConsumerCoordinator); err == nil {
				if info, err := cons.Info(ctx); err == nil {
					pending.Set(float64(info.NumPending + uint64(info.NumAckPending)))
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}), nil
}
