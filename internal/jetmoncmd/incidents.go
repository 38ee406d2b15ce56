package jetmoncmd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jetmon-mesh/jetmon/coordinator"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/eventstore"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The incident adapters: the event store behind the coordinator's ingest
// commits and IncidentStore, its outbox, and the drift count. This file
// (with the ingest adapter) is the only place that builds an
// eventstore.Store.

// eventWriter builds the event store of one incident write: the outbox
// payload of each transition carries the write's site snapshot and votes,
// which the store's payload hook cannot see otherwise. Building a Store does
// no I/O.
type eventWriter struct {
	db         *sql.DB
	projection bool // LEGACY_STATUS_PROJECTION_ENABLE
	logger     *slog.Logger
}

// store returns an event store whose payloads are built with w's context.
func (e eventWriter) store(w coordinator.IncidentWrite) (*eventstore.Store, error) {
	s, err := eventstore.New(e.db, eventstore.Opts{
		Projection: e.projection, Logger: e.logger, OutboxSubject: bus.SubjectDeliverTransition,
		Payload: func(item eventstore.OutboxItem) ([]byte, error) {
			blog := item.Transition.BlogID
			site, ok := w.Sites[blog]
			if !ok {
				site = uptime.Site{BlogID: blog}
			}
			return bus.EncodeTransitionMessage(bus.TransitionMessage{
				Transition: item.Transition, Event: item.Event, Site: site, Votes: w.Votes[blog],
			})
		},
	})
	if err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	return s, nil
}

// applyInTx is the ingest commit's hook that writes w in the batch's
// transaction; nil when w writes nothing.
func (e eventWriter) applyInTx(w coordinator.IncidentWrite) (func(ctx context.Context, tx *sql.Tx) error, error) {
	if w.Empty() {
		return nil, nil
	}
	store, err := e.store(w)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := store.ApplyTx(ctx, tx, w.Changes, w.FalsePositives, w.AlertsSent)
		return err
	}, nil
}

// storeErr maps the stores' sentinels onto the coordinator's: fencing, and
// an open event that exists or is missing against the decisions.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sqlstore.ErrFenced):
		return fenced(err)
	case errors.Is(err, eventstore.ErrOpenExists), errors.Is(err, eventstore.ErrNoOpenEvent):
		return fmt.Errorf("%w: %w", coordinator.ErrIncidentConflict, err)
	default:
		return err
	}
}

// incidentAdapter is coordinator.IncidentStore.
type incidentAdapter struct{ w eventWriter }

func (a incidentAdapter) OpenEvents(ctx context.Context) ([]uptime.Event, error) {
	store, err := a.w.store(coordinator.IncidentWrite{})
	if err != nil {
		return nil, err
	}
	return store.OpenEvents(ctx)
}

func (a incidentAdapter) Apply(ctx context.Context, epoch uint64, w coordinator.IncidentWrite) error {
	store, err := a.w.store(w)
	if err != nil {
		return err
	}
	_, err = store.Apply(ctx, epoch, w.Changes, w.FalsePositives, w.AlertsSent)
	return storeErr(err)
}

// Event is coordinator.EventReader: one event by id, for event.close with
// an event_id.
func (a incidentAdapter) Event(ctx context.Context, id int64) (uptime.Event, bool, error) {
	store, err := a.w.store(coordinator.IncidentWrite{})
	if err != nil {
		return uptime.Event{}, false, err
	}
	return store.Event(ctx, id)
}

// outboxAdapter is coordinator.Outbox.
type outboxAdapter struct{ w eventWriter }

func (a outboxAdapter) Pending(ctx context.Context, limit int) ([]coordinator.OutboxRow, error) {
	store, err := a.w.store(coordinator.IncidentWrite{})
	if err != nil {
		return nil, err
	}
	rows, err := store.Pending(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]coordinator.OutboxRow, len(rows))
	for i, r := range rows {
		out[i] = coordinator.OutboxRow(r)
	}
	return out, nil
}

func (a outboxAdapter) Delete(ctx context.Context, ids []int64) error {
	store, err := a.w.store(coordinator.IncidentWrite{})
	if err != nil {
		return err
	}
	return store.Delete(ctx, ids)
}

// driftAdapter is coordinator.DriftCounter.
type driftAdapter struct{ db *sql.DB }

func (a driftAdapter) DriftCount(ctx context.Context, r uptime.BucketRange) (int, error) {
	return sqlstore.DriftCount(ctx, a.db, r)
}
