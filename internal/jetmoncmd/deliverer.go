package jetmoncmd

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/deliverystore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// addDeliverer wires the deliverer role: the transports from config, the
// MySQL store and the JetStream consumers of JETMON_DELIVERY (created by
// the coordinator's EnsureAssets; until they exist the queues wait).
func addDeliverer(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
	t, err := sharedTransports(rt, node)
	if err != nil {
		return err
	}
	return wireDeliverer(ctx, rt, node, t)
}

// wireDeliverer adds a deliverer sending through t (tests pass transports
// with short breaker timings or local endpoints).
func wireDeliverer(ctx context.Context, rt *cli.Runtime, node *cli.Node, t deliveryTransports) error {
	db, err := openDB(ctx, rt, node)
	if err != nil {
		return err
	}
	opts, err := delivererPorts(rt, node, db)
	if err != nil {
		return err
	}
	c := rt.Config
	opts.NodeID, opts.Region, opts.Logger, opts.Registerer = c.NodeID, c.Region, rt.Logger, rt.Registry
	opts.ShutdownTimeout, opts.RetrySchedule, opts.SendTimeout = c.ShutdownTimeout, c.RetrySchedule, c.DeliveryTimeout
	opts.Webhooks, opts.Alerts, opts.WPCOM, opts.BreakerState = t.webhooks, t.alerts, t.wpcom, t.breaker
	d, err := deliverer.New(opts)
	if err != nil {
		return fmt.Errorf("deliverer: %w", err)
	}
	node.Add("deliverer", d)
	return cli.AddPresence(rt, node, uptime.RoleDeliverer, nil)
}

// delivererPorts builds the deliverer's queues, publisher, dead-letter
// mover and store.
func delivererPorts(rt *cli.Runtime, node *cli.Node, db *sql.DB) (deliverer.Opts, error) {
	c, js := rt.Config, node.JS
	queues := map[string]deliverer.Queue{}
	for _, name := range bus.DeliveryConsumers() {
		q, err := bus.NewWorkQueue(js, name, bus.WorkQueueOpts{Workers: c.DeliveryWorkers,
			DrainTimeout: c.ShutdownTimeout, Logger: rt.Logger})
		if err != nil {
			return deliverer.Opts{}, fmt.Errorf("deliverer: %w", err)
		}
		queues[name] = queueAdapter{q: q, consumer: name}
	}
	mover, err := bus.NewDeadLetterMover(js, bus.DeadLetterMoverOpts{DrainTimeout: c.ShutdownTimeout, Logger: rt.Logger})
	if err != nil {
		return deliverer.Opts{}, fmt.Errorf("deliverer: %w", err)
	}
	jobs, err := bus.NewJobPublisher(js)
	if err != nil {
		return deliverer.Opts{}, fmt.Errorf("deliverer: %w", err)
	}
	store, err := deliverystore.New(db, deliverystore.Opts{Logger: rt.Logger})
	if err != nil {
		return deliverer.Opts{}, fmt.Errorf("deliverer: %w", err)
	}
	s := storeAdapter{store}
	return deliverer.Opts{
		FanOutQueue: queues[bus.ConsumerFanout], WebhookQueue: queues[bus.ConsumerWebhook],
		AlertQueue: queues[bus.ConsumerAlert], WPCOMQueue: queues[bus.ConsumerWPCOM],
		Jobs: jobsAdapter{jobs}, Backlog: backlogAdapter{js}, DeadLetters: deadLettersAdapter{mover},
		Destinations: s, FanOuts: s, Dispatch: s, Lookup: s, DeadLetterDB: s,
		DecodeTransition: decodeTransition, DecodeJob: decodeJob,
	}, nil
}

// newDeliveryOps builds the deliverer's manual retry and send-test for this
// process (the API wires them): the same store, job publisher and alert
// senders the deliverer role uses, without running the role.
func newDeliveryOps(rt *cli.Runtime, node *cli.Node, db *sql.DB) (*deliverer.Ops, error) {
	t, err := sharedTransports(rt, node)
	if err != nil {
		return nil, err
	}
	store, err := deliverystore.New(db, deliverystore.Opts{Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("delivery ops: %w", err)
	}
	jobs, err := bus.NewJobPublisher(node.JS)
	if err != nil {
		return nil, fmt.Errorf("delivery ops: %w", err)
	}
	ops, err := deliverer.NewOps(deliverer.OpsOpts{Store: storeAdapter{store}, Contacts: storeAdapter{store},
		Jobs: jobsAdapter{jobs}, Alerts: t.alerts, Logger: rt.Logger})
	if err != nil {
		return nil, fmt.Errorf("delivery ops: %w", err)
	}
	return ops, nil
}
