package eventstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Lengths of the columns written here, in characters.
const (
	maxCheckTypeLen = 64
	maxStateLen     = 32
	maxReasonLen    = 64
	maxSourceLen    = 255
	maxSubjectLen   = 255
)

// defaultSource is a transition's source when it names none.
const defaultSource = "local"

// errDupEntry is MySQL's ER_DUP_ENTRY. The only unique key of jetmon_events
// besides the auto-increment id is uk_open_dedup.
const errDupEntry = 1062

// insertTransition writes one jetmon_event_transitions row.
const insertTransition = `INSERT INTO jetmon_event_transitions (event_id, blog_id, severity_before,
    severity_after, state_before, state_after, reason, source, metadata, changed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// validate checks c before anything is written.
func validate(c uptime.Change) error {
	ev, tr := c.Event, c.Transition
	var problem string
	switch {
	case ev.BlogID <= 0:
		problem = "blog id must be positive"
	case ev.CheckType == "" || utf8.RuneCountInString(ev.CheckType) > maxCheckTypeLen:
		problem = fmt.Sprintf("check type must be 1 to %d characters", maxCheckTypeLen)
	case tr.BlogID != 0 && tr.BlogID != ev.BlogID, tr.CheckType != "" && tr.CheckType != ev.CheckType:
		problem = "the transition's identity differs from the event's"
	case tr.ChangedAt.IsZero():
		problem = "the transition has no time"
	case utf8.RuneCountInString(tr.Source) > maxSourceLen:
		problem = fmt.Sprintf("source longer than %d characters", maxSourceLen)
	case utf8.RuneCountInString(string(tr.Reason)) > maxReasonLen:
		problem = fmt.Sprintf("reason longer than %d characters", maxReasonLen)
	default:
		problem = validateOp(c)
	}
	if problem == "" {
		return nil
	}
	return fmt.Errorf("%s of %d/%s: %s: %w", c.Op, ev.BlogID, ev.CheckType, problem, ErrInvalidChange)
}

// validateOp checks what c.Op needs, returning the problem or "".
func validateOp(c uptime.Change) string {
	switch c.Op {
	case uptime.OpOpen:
		switch {
		case c.Event.StartedAt.IsZero():
			return "the event has no started_at"
		case c.Transition.Reason != "" && c.Transition.Reason != uptime.ReasonOpened:
			return fmt.Sprintf("reason %q: an open's reason is %q", c.Transition.Reason, uptime.ReasonOpened)
		}
		return validState(c.Event.State)
	case uptime.OpUpdate:
		if c.Transition.Reason == "" {
			return "the transition has no reason"
		}
		return validState(c.Event.State)
	case uptime.OpClose:
		if c.Transition.Reason == "" {
			return "the transition has no reason"
		}
		return ""
	default:
		return fmt.Sprintf("unknown op %q", c.Op)
	}
}

func validState(s uptime.State) string {
	if s == "" || utf8.RuneCountInString(string(s)) > maxStateLen {
		return fmt.Sprintf("state must be 1 to %d characters", maxStateLen)
	}
	return ""
}

// step is one change's outcome: the event after it and the transition to
// write, unless write is false (a no-op).
type step struct {
	event      uptime.Event
	transition uptime.Transition
	write      bool
}

// apply writes one validated change and its transition and outbox rows.
func (a *applier) apply(ctx context.Context, c uptime.Change) error {
	var (
		st  step
		err error
	)
	switch c.Op {
	case uptime.OpOpen:
		st, err = a.open(ctx, c)
	case uptime.OpUpdate:
		st, err = a.update(ctx, c)
	default: // uptime.OpClose: validate rejected every other op
		st, err = a.close(ctx, c)
	}
	if err != nil || !st.write {
		return err
	}
	return a.record(ctx, st.event, st.transition)
}

// open inserts c's event.
func (a *applier) open(ctx context.Context, c uptime.Change) (step, error) {
	ev := c.Event
	ev.ID, ev.EndedAt, ev.ResolutionReason = 0, time.Time{}, ""
	ev.StartedAt = dbTime(ev.StartedAt)
	meta, err := encodeMetadata(ev.Metadata)
	if err != nil {
		return step{}, fmt.Errorf("event metadata: %w", err)
	}
	res, err := a.tx.ExecContext(ctx,
		`INSERT INTO jetmon_events (blog_id, check_type, severity, state, started_at, metadata)
		 VALUES (?, ?, ?, ?, ?, ?)`,
		ev.BlogID, ev.CheckType, uint8(ev.Severity), string(ev.State), ev.StartedAt, meta)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == errDupEntry {
		return step{}, ErrOpenExists
	}
	if err != nil {
		return step{}, fmt.Errorf("insert event: %w", err)
	}
	if ev.ID, err = res.LastInsertId(); err != nil {
		return step{}, fmt.Errorf("insert event: %w", err)
	}
	tr := baseTransition(c)
	tr.SeverityAfter, tr.StateAfter = ptr(ev.Severity), ev.State
	tr.Reason = uptime.ReasonOpened
	return step{event: ev, transition: tr, write: true}, nil
}

// update changes the open event of c's identity unless nothing differs.
func (a *applier) update(ctx context.Context, c uptime.Change) (step, error) {
	cur, found, err := lockOpen(ctx, a.tx, c.Event.BlogID, c.Event.CheckType)
	if err != nil {
		return step{}, err
	}
	if !found {
		return step{}, ErrNoOpenEvent
	}
	meta, err := encodeMetadata(c.Event.Metadata)
	if err != nil {
		return step{}, fmt.Errorf("event metadata: %w", err)
	}
	same, err := sameMetadata(cur.Metadata, meta)
	if err != nil {
		return step{}, err
	}
	if same && cur.Severity == c.Event.Severity && cur.State == c.Event.State {
		return step{}, nil
	}
	_, err = a.tx.ExecContext(ctx, "UPDATE jetmon_events SET severity = ?, state = ?, metadata = ? WHERE id = ?",
		uint8(c.Event.Severity), string(c.Event.State), meta, cur.ID)
	if err != nil {
		return step{}, fmt.Errorf("update event %d: %w", cur.ID, err)
	}
	after := cur
	after.Severity, after.State, after.Metadata = c.Event.Severity, c.Event.State, c.Event.Metadata
	tr := baseTransition(c)
	tr.SeverityBefore, tr.SeverityAfter = ptr(cur.Severity), ptr(after.Severity)
	tr.StateBefore, tr.StateAfter = cur.State, after.State
	return step{event: after, transition: tr, write: true}, nil
}

// close ends the open event of c's identity; without one, or when c names
// another event (c.Event.ID set and different), it does nothing.
func (a *applier) close(ctx context.Context, c uptime.Change) (step, error) {
	cur, found, err := lockOpen(ctx, a.tx, c.Event.BlogID, c.Event.CheckType)
	if err != nil {
		return step{}, err
	}
	if !found {
		a.store.logger.Debug("close without an open event ignored", "component", "eventstore",
			"blog_id", c.Event.BlogID, "check_type", c.Event.CheckType, "reason", c.Transition.Reason)
		return step{}, nil
	}
	if c.Event.ID != 0 && cur.ID != c.Event.ID {
		a.store.logger.Warn("close of an event that is no longer open ignored", "component", "eventstore",
			"blog_id", c.Event.BlogID, "check_type", c.Event.CheckType, "incident_id", c.Event.ID,
			"open_event_id", cur.ID, "reason", c.Transition.Reason)
		return step{}, nil
	}
	tr := baseTransition(c)
	_, err = a.tx.ExecContext(ctx, "UPDATE jetmon_events SET ended_at = ?, resolution_reason = ? WHERE id = ?",
		tr.ChangedAt, string(tr.Reason), cur.ID)
	if err != nil {
		return step{}, fmt.Errorf("close event %d: %w", cur.ID, err)
	}
	after := cur
	after.EndedAt, after.ResolutionReason = tr.ChangedAt, tr.Reason
	tr.SeverityBefore, tr.StateBefore = ptr(cur.Severity), cur.State
	tr.StateAfter = uptime.StateResolved
	if tr.Reason == uptime.ReasonFalseAlarm && cur.CheckType == uptime.CheckTypeHTTP {
		a.falseAlarms[cur.BlogID] = cur.ID
	}
	return step{event: after, transition: tr, write: true}, nil
}

// baseTransition is c's transition with the store's identity, source and
// time; ids and before/after values are filled by the caller.
func baseTransition(c uptime.Change) uptime.Transition {
	tr := c.Transition
	tr.ID, tr.EventID = 0, 0
	tr.BlogID, tr.CheckType = c.Event.BlogID, c.Event.CheckType
	tr.SeverityBefore, tr.SeverityAfter, tr.StateBefore, tr.StateAfter = nil, nil, "", ""
	tr.Source = cmp.Or(tr.Source, defaultSource)
	tr.ChangedAt = dbTime(tr.ChangedAt)
	return tr
}

// record writes tr of ev and its outbox row.
func (a *applier) record(ctx context.Context, ev uptime.Event, tr uptime.Transition) error {
	tr.EventID = ev.ID
	meta, err := encodeMetadata(tr.Metadata)
	if err != nil {
		return fmt.Errorf("transition metadata: %w", err)
	}
	res, err := a.tx.ExecContext(ctx, insertTransition, tr.EventID, tr.BlogID,
		nullSeverity(tr.SeverityBefore), nullSeverity(tr.SeverityAfter), nullString(string(tr.StateBefore)),
		nullString(string(tr.StateAfter)), string(tr.Reason), tr.Source, meta, tr.ChangedAt)
	if err != nil {
		return fmt.Errorf("insert transition of event %d: %w", ev.ID, err)
	}
	if tr.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert transition of event %d: %w", ev.ID, err)
	}
	if err := a.outbox(ctx, OutboxItem{Transition: tr, Event: ev}); err != nil {
		return err
	}
	a.written = append(a.written, tr)
	if tr.CheckType == uptime.CheckTypeHTTP {
		a.touched[tr.BlogID] = later(a.touched[tr.BlogID], tr.ChangedAt)
	}
	return nil
}

// dbTime is t as DATETIME(3) stores it: UTC, to the millisecond.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func ptr[T any](v T) *T { return &v }

func nullSeverity(s *uptime.Severity) any {
	if s == nil {
		return nil
	}
	return uint8(*s)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
