package jetmoncmd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/meshstatus"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Timings of the API role's wiring.
const (
	// apiCommandFloor is the least time a coordinator command may take: a
	// trigger-now waits for the owning prober's check (Jetmon v2 gave it
	// 30 s).
	apiCommandFloor = 30 * time.Second
	// apiPingTimeout bounds a health check's ping when the request has no
	// deadline of its own.
	apiPingTimeout = 2 * time.Second
	// idempotencySweep is how often expired idempotency records are
	// deleted (they are never replayed; this only bounds the table).
	idempotencySweep = time.Hour
	// idempotencySweepBatch is how many rows one DELETE removes.
	idempotencySweepBatch = 5000
)

// addAPI wires the REST API: its MySQL store, the coordinator's commands and
// the mesh view over NATS, the deliverer's retry and send-test, and the
// health pingers. It needs only MySQL and NATS, so `jetmon api` runs alone
// as well as inside `jetmon all`.
func addAPI(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
	opts, store, err := apiOpts(ctx, rt, node)
	if err != nil {
		return err
	}
	a, err := api.New(opts)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	if err := a.Listen(ctx); err != nil {
		return err
	}
	node.Add("api", a)
	node.Add("api-idempotency-sweep", idempotencySweeper(store, rt))
	return cli.AddPresence(rt, node, uptime.RoleAPI, nil)
}

// apiOpts builds the API server's options from config and the node's
// connections (the tests build their servers with it too).
func apiOpts(ctx context.Context, rt *cli.Runtime, node *cli.Node) (api.Opts, *apistore.Store, error) {
	db, err := openDB(ctx, rt, node)
	if err != nil {
		return api.Opts{}, nil, err
	}
	store, err := apistore.New(db, apistore.Opts{Logger: rt.Logger})
	if err != nil {
		return api.Opts{}, nil, fmt.Errorf("api: %w", err)
	}
	commands, err := bus.NewCommandClient(node.Conn)
	if err != nil {
		return api.Opts{}, nil, fmt.Errorf("api: %w", err)
	}
	ops, err := apiDeliveryOpsFor(rt, node, db)
	if err != nil {
		return api.Opts{}, nil, err
	}
	c := rt.Config
	return api.Opts{
		Addr: c.APIAddr, Version: rt.Version, Logger: rt.Logger, Registerer: rt.Registry, ShutdownTimeout: c.ShutdownTimeout,
		Keys: store, Idempotency: store, Auditor: store, Sites: store, Events: store, Stats: store,
		Webhooks: store, AlertContacts: store, Deliveries: store, DeliveryOps: ops,
		Coordinator: apiCoordinator{c: commands, timeout: apiCommandTimeout(c)},
		Mesh: apiMesh{nats: natsPinger{node.Conn}, js: node.JS, fence: sqlstore.NewFence(db),
			rollout: uptime.BucketRange{Min: c.RolloutBucketMin, Max: c.RolloutBucketMax}},
		DB: dbPinger{db}, NATS: natsPinger{node.Conn},
		LegacyStatusProjection: c.LegacyStatusProjection, BucketTotal: c.BucketTotal,
	}, store, nil
}

// apiCommandTimeout bounds one coordinator command: long enough for a
// trigger-now's check at the default timeout.
func apiCommandTimeout(c config.Config) time.Duration {
	return max(apiCommandFloor, c.NetCommsTimeout+10*time.Second)
}

// idempotencySweeper deletes expired idempotency records every hour.
func idempotencySweeper(store *apistore.Store, rt *cli.Runtime) cli.Runner {
	return cli.RunnerFunc(func(ctx context.Context) error {
		tick := time.NewTicker(idempotencySweep)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			for {
				n, err := store.DeleteExpiredIdempotency(ctx, idempotencySweepBatch)
				if err != nil {
					if ctx.Err() == nil {
						rt.Logger.Warn("sweep idempotency keys", "component", "api", "err", err)
					}
					break
				}
				if n < idempotencySweepBatch {
					break
				}
			}
		}
	})
}

// dbPinger is the API's MySQL health check.
type dbPinger struct{ db *sql.DB }

func (p dbPinger) Ping(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, apiPingTimeout)
	defer cancel()
	return p.db.PingContext(ctx) //nolint:wrapcheck // the API reports db_unavailable, not the text
}

// natsPinger is the API's NATS health check: connected, and a round trip
// to the server answers.
type natsPinger struct{ nc *nats.Conn }

func (p natsPinger) Ping(ctx context.Context) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("nats: %s", p.nc.Status())
	}
	ctx, cancel := withDefaultTimeout(ctx, apiPingTimeout)
	defer cancel()
	if err := p.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats flush: %w", err)
	}
	return nil
}

// withDefaultTimeout gives ctx a deadline d away unless it has one.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// apiMesh is api.Mesh over `jetmon mesh status`'s collector. Without a
// NATS connection nothing can be read: an error (503 nats_unavailable)
// rather than a view whose every part failed.
type apiMesh struct {
	nats    natsPinger
	js      jetstream.JetStream
	fence   *sqlstore.Fence
	rollout uptime.BucketRange
}

func (m apiMesh) MeshView(ctx context.Context) (api.MeshView, error) {
	if err := m.nats.Ping(ctx); err != nil {
		return api.MeshView{}, err
	}
	s := meshstatus.Collect(ctx, m.js, meshstatus.Opts{Rollout: m.rollout, Epoch: func(ctx context.Context) (uint64, error) {
		epoch, _, err := m.fence.CurrentEpoch(ctx)
		return epoch, err
	}})
	v := api.MeshView{ProbersByRegion: map[string]int{}, VerifliersByRegion: map[string]int{}, Errors: s.Errors}
	if s.Leader != nil {
		v.LeaderNodeID, v.LeaderRegion, v.Epoch = s.Leader.NodeID, s.Leader.Region, s.Leader.Epoch
	}
	for _, n := range s.Nodes {
		switch n.Role {
		case uptime.RoleProber:
			v.ProbersByRegion[n.Region]++
		case uptime.RoleVeriflier:
			v.VerifliersByRegion[n.Region]++
		}
	}
	for _, r := range s.Unassigned {
		v.Unassigned = append(v.Unassigned, uptime.BucketRange{Min: r.Min, Max: r.Max})
	}
	if s.Backlog != nil {
		v.ResultsBacklog = s.Backlog.Pending + uint64(max(s.Backlog.AckPending, 0))
	}
	return v, nil
}

// apiDeliveryOps is api.DeliveryOps over the deliverer's Ops, with its
// sentinels mapped onto the API's.
type apiDeliveryOps struct {
	ops interface {
		Retry(ctx context.Context, deliveryID int64) (uptime.Delivery, error)
		SendTest(ctx context.Context, contactID int64) (uptime.SendResult, error)
	}
}

func (a apiDeliveryOps) Retry(ctx context.Context, deliveryID int64) (uptime.Delivery, error) {
	d, err := a.ops.Retry(ctx, deliveryID)
	return d, deliveryErr(err)
}

func (a apiDeliveryOps) SendTest(ctx context.Context, contactID int64) (uptime.SendResult, error) {
	res, err := a.ops.SendTest(ctx, contactID)
	return res, deliveryErr(err)
}

// deliveryErr maps the deliverer's sentinels onto the API's.
func deliveryErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, deliverer.ErrNotFound):
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	case errors.Is(err, deliverer.ErrNotRetryable):
		return fmt.Errorf("%w: %w", api.ErrNotRetryable, err)
	case errors.Is(err, deliverer.ErrTransportNotConfigured):
		return fmt.Errorf("%w: %w", api.ErrTransportNotConfigured, err)
	default:
		return err
	}
}

// apiDeliveryOpsFor is the deliverer's retry and send-test for this
// process (newDeliveryOps: the same store, job publisher and alert senders
// the deliverer role uses), with its errors mapped onto the API's.
func apiDeliveryOpsFor(rt *cli.Runtime, node *cli.Node, db *sql.DB) (api.DeliveryOps, error) {
	ops, err := newDeliveryOps(rt, node, db)
	if err != nil {
		return nil, err
	}
	return apiDeliveryOps{ops: ops}, nil
}
