package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// TransitionMessage is one committed incident transition as the
// coordinator's outbox relay publishes it on SubjectDeliverTransition: the
// jetmon_outbox payload, built in the transaction that wrote the
// transition. It carries everything a deliverer needs without reading the
// event tables.
type TransitionMessage struct {
	// Transition is the history row as written (ID and EventID set), with
	// the notification decision in Notify.
	Transition uptime.Transition
	// Event is the event right after the transition (EndedAt and
	// ResolutionReason set on a close).
	Event uptime.Event
	// Site is the site as the decision saw it; only BlogID, Bucket,
	// Spec.URL and the maintenance window travel.
	Site uptime.Site
	// Votes are the veriflier votes of the confirmation this transition
	// decided (verifier_confirmed, false_alarm); empty otherwise.
	Votes []uptime.Vote
}

// transitionMessageWire is a SubjectDeliverTransition message.
type transitionMessageWire struct {
	V            int              `json:"v"`
	Transition   transitionWire   `json:"transition"`
	Event        eventWire        `json:"event"`
	Site         siteSnapshotWire `json:"site"`
	Votes        []voteFields     `json:"votes"`
	Notification notificationWire `json:"notification"`
}

// transitionWire is a jetmon_event_transitions row; the before values are
// null on an open, severity_after null on a close.
type transitionWire struct {
	ID             int64          `json:"id"`
	EventID        int64          `json:"event_id"`
	BlogID         int64          `json:"blog_id"`
	CheckType      string         `json:"check_type"`
	SeverityBefore *uint8         `json:"severity_before"`
	SeverityAfter  *uint8         `json:"severity_after"`
	StateBefore    *string        `json:"state_before"`
	StateAfter     string         `json:"state_after"`
	Reason         string         `json:"reason"`
	Source         string         `json:"source"`
	Metadata       map[string]any `json:"metadata"`
	ChangedAt      time.Time      `json:"changed_at"`
}

// eventWire is a jetmon_events row after the transition.
type eventWire struct {
	ID               int64          `json:"id"`
	State            string         `json:"state"`
	Severity         uint8          `json:"severity"`
	StartedAt        time.Time      `json:"started_at"`
	EndedAt          *time.Time     `json:"ended_at"`
	ResolutionReason *string        `json:"resolution_reason"`
	Metadata         map[string]any `json:"metadata"`
}

// siteSnapshotWire is the part of the site a deliverer needs.
type siteSnapshotWire struct {
	BlogID           int64      `json:"blog_id"`
	Bucket           int        `json:"bucket"`
	URL              string     `json:"url"`
	MaintenanceStart *time.Time `json:"maintenance_start"`
	MaintenanceEnd   *time.Time `json:"maintenance_end"`
}

// notificationWire is the notification decision taken with the transition.
type notificationWire struct {
	Notify     bool   `json:"notify"`
	Suppressed string `json:"suppressed"`
	Kind       string `json:"kind"`
}

const kindTransition = "transition message"

// EncodeTransitionMessage encodes m as a SubjectDeliverTransition message.
// Vote timings are truncated to whole milliseconds; metadata must be JSON.
func EncodeTransitionMessage(m TransitionMessage) ([]byte, error) {
	tr, ev, site := m.Transition, m.Event, m.Site
	w := transitionMessageWire{
		V: WireVersion,
		Transition: transitionWire{
			ID: tr.ID, EventID: tr.EventID, BlogID: tr.BlogID, CheckType: tr.CheckType,
			SeverityBefore: optSeverity(tr.SeverityBefore), SeverityAfter: optSeverity(tr.SeverityAfter),
			StateBefore: optString(string(tr.StateBefore)), StateAfter: string(tr.StateAfter),
			Reason: string(tr.Reason), Source: tr.Source, Metadata: tr.Metadata, ChangedAt: tr.ChangedAt.UTC(),
		},
		Event: eventWire{
			ID: ev.ID, State: string(ev.State), Severity: uint8(ev.Severity), StartedAt: ev.StartedAt.UTC(),
			EndedAt: optTime(ev.EndedAt), ResolutionReason: optString(string(ev.ResolutionReason)), Metadata: ev.Metadata,
		},
		Site: siteSnapshotWire{
			BlogID: site.BlogID, Bucket: site.Bucket, URL: site.Spec.URL,
			MaintenanceStart: optTime(site.MaintenanceStart), MaintenanceEnd: optTime(site.MaintenanceEnd),
		},
		Votes:        make([]voteFields, len(m.Votes)),
		Notification: notificationWire{Notify: tr.Notify.Notify, Suppressed: tr.Notify.Suppressed, Kind: tr.Notify.Kind},
	}
	for i, v := range m.Votes {
		w.Votes[i] = encodeVote(v)
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode transition %d: %w", tr.ID, err)
	}
	return b, nil
}

// DecodeTransitionMessage decodes a SubjectDeliverTransition message.
// Required: v, transition.id, blog_id (> 0), check_type, state_after,
// reason and changed_at, event.id and started_at, and each vote's required
// fields. Metadata numbers decode as float64; empty metadata as nil.
func DecodeTransitionMessage(data []byte) (TransitionMessage, error) {
	var w transitionMessageWire
	if err := unmarshal(kindTransition, data, &w, &w.V); err != nil {
		return TransitionMessage{}, err
	}
	tr, err := w.Transition.transition()
	if err != nil {
		return TransitionMessage{}, err
	}
	tr.Notify = uptime.Notification{Notify: w.Notification.Notify, Suppressed: w.Notification.Suppressed,
		Kind: w.Notification.Kind}
	m := TransitionMessage{Transition: tr}
	if m.Event, err = w.Event.event(tr); err != nil {
		return TransitionMessage{}, err
	}
	if m.Site, err = w.Site.site(); err != nil {
		return TransitionMessage{}, err
	}
	for _, vf := range w.Votes {
		v, err := decodeVote(kindTransition, vf)
		if err != nil {
			return TransitionMessage{}, err
		}
		m.Votes = append(m.Votes, v)
	}
	return m, nil
}

// transition validates and converts the transition part.
func (w transitionWire) transition() (uptime.Transition, error) {
	switch {
	case w.ID <= 0:
		return uptime.Transition{}, malformed(kindTransition, "field %q: missing or <= 0", "transition.id")
	case w.BlogID <= 0:
		return uptime.Transition{}, malformed(kindTransition, "field %q: missing or <= 0", "transition.blog_id")
	case w.CheckType == "", w.StateAfter == "", w.Reason == "":
		return uptime.Transition{}, malformed(kindTransition, "transition: check_type, state_after and reason are required")
	case w.ChangedAt.IsZero():
		return uptime.Transition{}, malformed(kindTransition, "missing field %q", "transition.changed_at")
	}
	changed, err := wireTime(kindTransition, "transition.changed_at", w.ChangedAt)
	if err != nil {
		return uptime.Transition{}, err
	}
	tr := uptime.Transition{ID: w.ID, EventID: w.EventID, BlogID: w.BlogID, CheckType: w.CheckType,
		SeverityBefore: fromOptSeverity(w.SeverityBefore), SeverityAfter: fromOptSeverity(w.SeverityAfter),
		StateAfter: uptime.State(w.StateAfter), Reason: uptime.Reason(w.Reason), Source: w.Source,
		Metadata: metadataOrNil(w.Metadata), ChangedAt: changed}
	if w.StateBefore != nil {
		tr.StateBefore = uptime.State(*w.StateBefore)
	}
	return tr, nil
}

// event validates and converts the event part; its identity is tr's.
func (w eventWire) event(tr uptime.Transition) (uptime.Event, error) {
	if w.ID <= 0 {
		return uptime.Event{}, malformed(kindTransition, "field %q: missing or <= 0", "event.id")
	}
	if w.StartedAt.IsZero() {
		return uptime.Event{}, malformed(kindTransition, "missing field %q", "event.started_at")
	}
	started, err := wireTime(kindTransition, "event.started_at", w.StartedAt)
	if err != nil {
		return uptime.Event{}, err
	}
	ended, err := fromOptTime(kindTransition, "event.ended_at", w.EndedAt)
	if err != nil {
		return uptime.Event{}, err
	}
	ev := uptime.Event{ID: w.ID, BlogID: tr.BlogID, CheckType: tr.CheckType, Severity: uptime.Severity(w.Severity),
		State: uptime.State(w.State), StartedAt: started, EndedAt: ended, Metadata: metadataOrNil(w.Metadata)}
	if w.ResolutionReason != nil {
		ev.ResolutionReason = uptime.Reason(*w.ResolutionReason)
	}
	return ev, nil
}

// site converts the site snapshot.
func (w siteSnapshotWire) site() (uptime.Site, error) {
	start, err := fromOptTime(kindTransition, "site.maintenance_start", w.MaintenanceStart)
	if err != nil {
		return uptime.Site{}, err
	}
	end, err := fromOptTime(kindTransition, "site.maintenance_end", w.MaintenanceEnd)
	if err != nil {
		return uptime.Site{}, err
	}
	return uptime.Site{BlogID: w.BlogID, Bucket: w.Bucket, Spec: uptime.CheckSpec{BlogID: w.BlogID, URL: w.URL},
		MaintenanceStart: start, MaintenanceEnd: end}, nil
}

func optSeverity(s *uptime.Severity) *uint8 {
	if s == nil {
		return nil
	}
	v := uint8(*s)
	return &v
}

func fromOptSeverity(v *uint8) *uptime.Severity {
	if v == nil {
		return nil
	}
	s := uptime.Severity(*v)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func metadataOrNil(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}
