package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Errors of ApplyTx and Apply. Any of them rolls the whole transaction back.
var (
	// ErrInvalidChange means a change, false positive or payload cannot be
	// written as given (missing identity, time or reason, unknown op, a
	// value that does not fit its column): retrying it cannot succeed.
	ErrInvalidChange = errors.New("invalid incident change")
	// ErrOpenExists means an OpOpen found an open event of the same identity.
	// The state machine never emits one; the store refuses it rather than
	// merging, so a replayed open can never create a second event.
	ErrOpenExists = errors.New("an open event of this identity already exists")
	// ErrNoOpenEvent means an OpUpdate found no open event of its identity.
	ErrNoOpenEvent = errors.New("no open event of this identity")
)

// DefaultOutboxSubject is jetmon_outbox.subject when Opts.OutboxSubject is
// empty: the subject the relay publishes transitions on.
const DefaultOutboxSubject = "jetmon.deliver.transition"

// Opts configures a Store.
type Opts struct {
	// Projection writes the legacy site_status projection
	// (LEGACY_STATUS_PROJECTION_ENABLE). Events are written either way.
	Projection bool
	// Payload encodes one transition's outbox payload, a JSON document
	// (the deliverers' wire format). Required.
	Payload func(OutboxItem) ([]byte, error)
	// OutboxSubject is recorded in jetmon_outbox.subject (default
	// DefaultOutboxSubject).
	OutboxSubject string
	// Logger gets DEBUG lines for skipped closes and applied batches. Nil
	// discards.
	Logger *slog.Logger
}

// OutboxItem is what an outbox payload is built from: one written
// transition and its event right after it.
type OutboxItem struct {
	Transition uptime.Transition // as written, with ID and EventID
	Event      uptime.Event      // after the transition, with ID; EndedAt set on close
}

// Store writes and reads incident state. It holds no state of its own
// between calls and is safe for concurrent use.
type Store struct {
	db      *sql.DB
	project bool
	payload func(OutboxItem) ([]byte, error)
	subject string
	logger  *slog.Logger
}

// New returns a store on db (a pool from sqlstore.Open with the schema
// applied). It does no I/O.
func New(db *sql.DB, opts Opts) (*Store, error) {
	switch {
	case db == nil:
		return nil, errors.New("new event store: nil db")
	case opts.Payload == nil:
		return nil, errors.New("new event store: nil Payload")
	case len(opts.OutboxSubject) > maxSubjectLen:
		return nil, fmt.Errorf("new event store: outbox subject longer than %d bytes", maxSubjectLen)
	}
	if opts.OutboxSubject == "" {
		opts.OutboxSubject = DefaultOutboxSubject
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, project: opts.Projection, payload: opts.Payload,
		subject: opts.OutboxSubject, logger: opts.Logger}, nil
}

// Apply is ApplyTx in a transaction of its own that first locks the
// coordinator's fencing row and fails with an error wrapping
// sqlstore.ErrFenced, writing nothing, unless the row holds epoch. It is
// for writes outside result ingestion (operator commands).
func (s *Store) Apply(ctx context.Context, epoch uint64, changes []uptime.Change,
	fps []uptime.FalsePositive, alertsSent map[int64]time.Time) ([]uptime.Transition, error) {
	var written []uptime.Transition
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := sqlstore.HoldEpoch(ctx, tx, epoch); err != nil {
			return err
		}
		var err error
		written, err = s.ApplyTx(ctx, tx, changes, fps, alertsSent)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("apply %d changes at epoch %d: %w", len(changes), epoch, err)
	}
	s.logger.Debug("incident changes committed", "component", "eventstore",
		"changes", len(changes), "transitions", len(written))
	return written, nil
}

// ApplyTx applies changes in order inside tx, which must hold the fencing
// row (sqlstore.HoldEpoch, as Ingest.CommitWith does):
//
//   - OpOpen inserts the event and an "opened" transition; an open event of
//     the same identity fails it with ErrOpenExists.
//   - OpUpdate locks the open event of the identity (ErrNoOpenEvent when
//     none) and, unless severity, state and metadata are all unchanged (a
//     no-op that writes nothing), updates it and writes one transition with
//     the before and after values. started_at never moves.
//   - OpClose ends the open event of the identity (ended_at = the
//     transition's time, resolution_reason = its reason) and writes a
//     transition to Resolved with no severity after. Closing an identity
//     with no open event is an idempotent success that writes nothing, and
//     so is a close whose Event.ID is set but differs from the open
//     event's: the event it meant has closed and a newer one of the same
//     identity opened since, which it must not close.
//
// Then it writes the legacy projection of every blog an HTTP change touched
// (when enabled), last_alert_sent_at from alertsSent (a zero time clears
// it), and fps, whose zero EventID is filled with the event the same call
// closed as false_alarm for that blog. Every written transition gets one
// outbox row. It returns the written transitions with their ids and the
// before values read from the database. On error tx must be rolled back.
func (s *Store) ApplyTx(ctx context.Context, tx *sql.Tx, changes []uptime.Change,
	fps []uptime.FalsePositive, alertsSent map[int64]time.Time) ([]uptime.Transition, error) {
	for i, c := range changes {
		if err := validate(c); err != nil {
			return nil, fmt.Errorf("change %d: %w", i, err)
		}
	}
	a := &applier{store: s, tx: tx, falseAlarms: map[int64]int64{}, touched: map[int64]time.Time{}}
	for i, c := range changes {
		if err := a.apply(ctx, c); err != nil {
			return nil, fmt.Errorf("change %d (%s of %d/%s): %w", i, c.Op, c.Event.BlogID, c.Event.CheckType, err)
		}
	}
	if s.project {
		if err := a.project(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.alertsSent(ctx, alertsSent); err != nil {
		return nil, err
	}
	if err := a.falsePositives(ctx, fps); err != nil {
		return nil, err
	}
	return a.written, nil
}

// applier is the state of one ApplyTx call.
type applier struct {
	store *Store
	tx    *sql.Tx
	// written are the transitions written so far.
	written []uptime.Transition
	// falseAlarms is the last event closed as false_alarm per blog.
	falseAlarms map[int64]int64
	// touched is the time of the last HTTP change per blog: the blogs whose
	// projection may have changed.
	touched map[int64]time.Time
}
