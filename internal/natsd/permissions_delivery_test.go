package natsd_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/bus"
)

// TestDeployDeliveryPermissions runs the bus's delivery code as the
// deliverer and api users against the assets EnsureAssets creates.
func TestDeployDeliveryPermissions(t *testing.T) {
	srv := startSingleFromDeploy(t)
	url := srv.ClientURL()
	coord := connectAs(t, url, "coordinator")
	// One delivery each: a nak exhausts a job at once.
	if err := bus.EnsureAssets(t.Context(), coord.js, bus.AssetOpts{DeliveryMaxDeliver: 1}); err != nil {
		t.Fatal(err)
	}
	runPermCases(t, url, deliveryCases(coord))
}

func deliveryCases(coord *roleConn) []permCase {
	job := func(id int64, kind string) bus.Job {
		return bus.Job{DeliveryID: id, Kind: kind, DestinationID: id, TransitionID: 1}
	}
	ack := func(ctx context.Context, m bus.WorkMsg) error { return m.Ack(ctx) }
	return []permCase{
		{name: "api publishes a manual-retry job", user: "api",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				return publishJob(ctx, c, job(1, "webhook"))
			}},
		deniedPublish("api publishes a transition", "api", "jetmon.deliver.transition"),
		deniedPublish("api consumes jobs", "api", "$JS.API.CONSUMER.MSG.NEXT.JETMON_DELIVERY.webhook"),
		{name: "deliverer fans out a transition", user: "deliverer",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				tp, err := bus.NewTransitionPublisher(coord.js)
				if err != nil {
					return err
				}
				if err := tp.PublishTransition(ctx, 1, []byte(`{}`)); err != nil {
					return err
				}
				return consumeOne(ctx, c, bus.ConsumerFanout, func(ctx context.Context, m bus.WorkMsg) error {
					return errors.Join(publishJob(ctx, c, job(2, "alert")), publishJob(ctx, c, job(3, "wpcom")), m.Ack(ctx))
				})
			}},
		{name: "deliverer dispatches webhook, alert and wpcom jobs", user: "deliverer",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				return errors.Join(consumeOne(ctx, c, bus.ConsumerWebhook, ack), consumeOne(ctx, c, bus.ConsumerAlert, ack),
					consumeOne(ctx, c, bus.ConsumerWPCOM, ack))
			}},
		{name: "deliverer reads the backlog", user: "deliverer",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				b, err := bus.DeliveryBacklog(ctx, c.js)
				if err == nil && len(b) != len(bus.DeliveryConsumers()) {
					err = fmt.Errorf("backlog of %d consumers: %v", len(b), b)
				}
				return err
			}},
		{name: "deliverer moves a dead letter", user: "deliverer",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error { return moveDeadLetter(ctx, coord, c) }},
		deniedPublish("deliverer publishes a job of no kind", "deliverer", "jetmon.deliver.sms.1"),
		deniedPublish("deliverer pulls check results", "deliverer", "$JS.API.CONSUMER.MSG.NEXT.JETMON_RESULTS.coordinator"),
		deniedPublish("deliverer deletes a dead letter's advisory", "deliverer", "$JS.API.STREAM.MSG.DELETE.JETMON_DEAD_LETTERS"),
		deniedPublish("deliverer purges the delivery stream", "deliverer", "$JS.API.STREAM.PURGE.JETMON_DELIVERY"),
		{name: "deliverer deletes a consumer", user: "deliverer", denied: `"$JS.API.CONSUMER.DELETE.JETMON_DELIVERY.webhook"`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				return c.js.DeleteConsumer(ctx, bus.StreamDelivery, bus.ConsumerWebhook)
			}},
	}
}

func publishJob(ctx context.Context, c *roleConn, j bus.Job) error {
	p, err := bus.NewJobPublisher(c.js)
	if err != nil {
		return err
	}
	return p.PublishJob(ctx, j)
}

// consumeOne runs a work queue on consumer as c until it has settled one
// message, or ctx ends.
func consumeOne(ctx context.Context, c *roleConn, consumer string, settle func(context.Context, bus.WorkMsg) error) error {
	q, err := bus.NewWorkQueue(c.js, consumer, bus.WorkQueueOpts{})
	if err != nil {
		return err
	}
	settled := make(chan error, 1)
	return untilFirst(ctx, settled, func(ctx context.Context) error {
		return q.Consume(ctx, func(hctx context.Context, m bus.WorkMsg) {
			select {
			case settled <- settle(hctx, m):
			default:
			}
		})
	})
}

// moveDeadLetter exhausts a webhook job as c, moves its dead letter and
// checks, as the coordinator, that the original and the advisory are gone.
func moveDeadLetter(ctx context.Context, coord, c *roleConn) error {
	if err := publishJob(ctx, c, bus.Job{DeliveryID: 9, Kind: "webhook", DestinationID: 9, TransitionID: 1}); err != nil {
		return err
	}
	// The server notices the exhausted job when it next tries to deliver
	// it, so a dispatcher keeps pulling (and nakking) while the mover runs.
	q, err := bus.NewWorkQueue(c.js, bus.ConsumerWebhook, bus.WorkQueueOpts{})
	if err != nil {
		return err
	}
	mover, err := bus.NewDeadLetterMover(c.js, bus.DeadLetterMoverOpts{})
	if err != nil {
		return err
	}
	moved := make(chan error, 1)
	report := func(err error) {
		select {
		case moved <- err:
		default:
		}
	}
	err = untilFirst(ctx, moved, func(ctx context.Context) error {
		dispatch := make(chan error, 1)
		go func() {
			dispatch <- q.Consume(ctx, func(ctx context.Context, m bus.WorkMsg) {
				if err := m.Nak(ctx, 0); err != nil {
					report(err)
				}
			})
		}()
		err := mover.Run(ctx, func(_ context.Context, dl bus.DeadLetter) error {
			if dl.Data == nil || dl.Consumer != bus.ConsumerWebhook {
				report(fmt.Errorf("dead letter %+v", dl))
			}
			report(nil)
			return nil
		})
		return errors.Join(err, <-dispatch)
	})
	if err != nil {
		return err
	}
	// The mover's drain let the handling finish: delete and ack are done.
	delivery, err1 := coord.js.Stream(ctx, bus.StreamDelivery)
	dead, err2 := coord.js.Stream(ctx, bus.StreamDeadLetters)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if n, m := delivery.CachedInfo().State.Msgs, dead.CachedInfo().State.Msgs; n != 0 || m != 0 {
		return fmt.Errorf("after the move: %d deliveries and %d advisories left", n, m)
	}
	return nil
}

// untilFirst runs f until the first value arrives on first (which it
// returns) or ctx ends, then cancels f and waits for it.
func untilFirst(ctx context.Context, first <-chan error, f func(context.Context) error) error {
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f(fctx) }()
	var err error
	select {
	case err = <-first:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	return errors.Join(err, <-done)
}
