package incident_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// model replays transitions alone, as a reader of jetmon_event_transitions
// would, and checks each against what it knows.
type model struct {
	open   map[string]modelEvent // by check type
	closed map[string]bool       // check type + started_at of every closed event
}

type modelEvent struct {
	sev       uptime.Severity
	state     uptime.State
	startedAt time.Time
}

func newModel() *model {
	return &model{open: map[string]modelEvent{}, closed: map[string]bool{}}
}

func eventKey(checkType string, startedAt time.Time) string {
	return checkType + "@" + startedAt.Format(time.RFC3339Nano)
}

// apply replays one change, failing when its transition does not follow
// from the history so far.
func (m *model) apply(c uptime.Change) error {
	tr, ev := c.Transition, c.Event
	switch {
	case ev.BlogID == 0 || tr.BlogID != ev.BlogID || tr.CheckType != ev.CheckType:
		return errors.New("transition and event identities differ")
	case tr.Reason == "" || tr.Source == "" || tr.ChangedAt.IsZero():
		return errors.New("transition without reason, source or time")
	case ev.StartedAt.IsZero():
		return errors.New("event without started_at")
	case m.closed[eventKey(ev.CheckType, ev.StartedAt)]:
		return errors.New("a closed event changed")
	}
	cur, open := m.open[ev.CheckType]
	if c.Op == uptime.OpOpen {
		return m.replayOpen(c, open)
	}
	switch {
	case !open:
		return fmt.Errorf("%s of an identity with no open event", c.Op)
	case !cur.startedAt.Equal(ev.StartedAt):
		return errors.New("started_at moved")
	case tr.SeverityBefore == nil || *tr.SeverityBefore != cur.sev || tr.StateBefore != cur.state:
		return fmt.Errorf("before %v/%s does not match the replayed %d/%s", tr.SeverityBefore, tr.StateBefore, cur.sev, cur.state)
	}
	if c.Op == uptime.OpUpdate {
		return m.replayUpdate(c, cur)
	}
	return m.replayClose(c)
}

func (m *model) replayOpen(c uptime.Change, open bool) error {
	tr, ev := c.Transition, c.Event
	switch {
	case open:
		return errors.New("open while an event of the identity is open")
	case tr.Reason != uptime.ReasonOpened:
		return fmt.Errorf("open with reason %s", tr.Reason)
	case tr.SeverityBefore != nil || tr.StateBefore != "":
		return errors.New("open with a before value")
	case tr.SeverityAfter == nil || *tr.SeverityAfter != ev.Severity || tr.StateAfter != ev.State:
		return errors.New("open's after differs from the event")
	case !ev.Open():
		return errors.New("opened event has an end")
	}
	m.open[ev.CheckType] = modelEvent{sev: ev.Severity, state: ev.State, startedAt: ev.StartedAt}
	return nil
}

func (m *model) replayUpdate(c uptime.Change, cur modelEvent) error {
	tr, ev := c.Transition, c.Event
	switch {
	case tr.SeverityAfter == nil || *tr.SeverityAfter != ev.Severity || tr.StateAfter != ev.State:
		return errors.New("update's after differs from the event")
	case ev.Severity == cur.sev && ev.State == cur.state:
		return errors.New("update that changes neither severity nor state")
	case !ev.Open():
		return errors.New("updated event has an end")
	}
	m.open[ev.CheckType] = modelEvent{sev: ev.Severity, state: ev.State, startedAt: ev.StartedAt}
	return nil
}

func (m *model) replayClose(c uptime.Change) error {
	tr, ev := c.Transition, c.Event
	switch {
	case tr.SeverityAfter != nil || tr.StateAfter != uptime.StateResolved:
		return errors.New("close not to Resolved without severity")
	case !ev.EndedAt.Equal(tr.ChangedAt) || ev.ResolutionReason != tr.Reason:
		return errors.New("closed event's end or resolution differs from its transition")
	}
	delete(m.open, ev.CheckType)
	m.closed[eventKey(ev.CheckType, ev.StartedAt)] = true
	return nil
}

// matches reports whether the replayed open events are exactly open's.
func (m *model) matches(open map[string]uptime.Event) error {
	if len(open) != len(m.open) {
		return fmt.Errorf("%d open events, %d replayed", len(open), len(m.open))
	}
	for ct, ev := range open {
		r, ok := m.open[ct]
		switch {
		case !ok:
			return fmt.Errorf("%s open but not replayed", ct)
		case ev.CheckType != ct || !ev.Open():
			return fmt.Errorf("%s: open map holds %s (ended %v)", ct, ev.CheckType, ev.EndedAt)
		case r.sev != ev.Severity || r.state != ev.State || !r.startedAt.Equal(ev.StartedAt):
			return fmt.Errorf("%s: state %d/%s since %v, replayed %d/%s since %v", ct,
				ev.Severity, ev.State, ev.StartedAt, r.sev, r.state, r.startedAt)
		}
	}
	return nil
}
