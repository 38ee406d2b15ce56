package api

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Transition metadata keys of a confirmation (incident.MetaVotes and
// incident's quorum key; the api role does not import the incident package).
const (
	metaVotes  = "votes"
	metaQuorum = "verifier_quorum"
)

// Event is one incident.
type Event struct {
	ID               int64           `json:"id"`
	SiteID           int64           `json:"site_id"`
	CheckType        string          `json:"check_type" doc:"http, tls_expiry or tls_deprecated"`
	Severity         uptime.Severity `json:"severity"`
	State            uptime.State    `json:"state"`
	StartedAt        time.Time       `json:"started_at"`
	EndedAt          *time.Time      `json:"ended_at" doc:"null while open"`
	ResolutionReason *uptime.Reason  `json:"resolution_reason"`
	Metadata         map[string]any  `json:"metadata"`
	DurationMs       int64           `json:"duration_ms" doc:"(ended_at, or now) - started_at"`
	TransitionCount  int             `json:"transition_count"`
}

// EventDetail is an event with its history and confirmation evidence.
type EventDetail struct {
	Event
	Transitions          []Transition   `json:"transitions" doc:"in id order, at most 200 (the transitions route pages through all)"`
	TransitionsTruncated bool           `json:"transitions_truncated"`
	Confirmations        []Confirmation `json:"confirmations" doc:"every veriflier confirmation the event went through"`
}

// Transition is one row of an event's history.
type Transition struct {
	ID             int64            `json:"id"`
	EventID        int64            `json:"event_id"`
	SeverityBefore *uptime.Severity `json:"severity_before" doc:"null on open"`
	SeverityAfter  *uptime.Severity `json:"severity_after" doc:"null on close"`
	StateBefore    *uptime.State    `json:"state_before" doc:"null on open"`
	StateAfter     uptime.State     `json:"state_after"`
	Reason         uptime.Reason    `json:"reason"`
	Source         string           `json:"source"`
	Metadata       map[string]any   `json:"metadata"`
	ChangedAt      time.Time        `json:"changed_at"`
}

// Confirmation is the evidence of one cross-region verification: the
// votes, by veriflier region, from the transition's metadata.
type Confirmation struct {
	TransitionID  int64             `json:"transition_id"`
	Reason        uptime.Reason     `json:"reason" doc:"verifier_confirmed or false_alarm"`
	DecidedAt     time.Time         `json:"decided_at"`
	Quorum        *int              `json:"quorum" doc:"confirming votes needed"`
	Responders    int               `json:"responders"`
	Confirmed     int               `json:"confirmed" doc:"votes that saw the site down too"`
	Disagreed     int               `json:"disagreed" doc:"votes that saw it up"`
	VotesByRegion map[string][]Vote `json:"votes_by_region"`
}

// Vote is one veriflier's answer.
type Vote struct {
	NodeID    string     `json:"node_id"`
	Up        bool       `json:"up" doc:"the site answered successfully from there"`
	HTTPCode  int        `json:"http_code"`
	ErrorCode int        `json:"error_code"`
	RTTMs     int64      `json:"rtt_ms"`
	DNSMs     int64      `json:"dns_ms"`
	TCPMs     int64      `json:"tcp_ms"`
	TLSMs     int64      `json:"tls_ms"`
	TTFBMs    int64      `json:"ttfb_ms"`
	CheckedAt *time.Time `json:"checked_at"`
}

// voteMeta is a vote as the coordinator stores it in metadata: a Vote and
// its veriflier's region.
type voteMeta struct {
	Region string `json:"region"`
	Vote
}

func (s *Server) eventOf(ev uptime.Event, transitions int) Event {
	end := ev.EndedAt
	if end.IsZero() {
		end = s.now()
	}
	out := Event{
		ID: ev.ID, SiteID: ev.BlogID, CheckType: ev.CheckType, Severity: ev.Severity, State: ev.State,
		StartedAt: utc(ev.StartedAt), EndedAt: timePtr(ev.EndedAt), Metadata: metadataOf(ev.Metadata),
		DurationMs: max(0, end.Sub(ev.StartedAt).Milliseconds()), TransitionCount: transitions,
	}
	if ev.ResolutionReason != "" {
		out.ResolutionReason = ptr(ev.ResolutionReason)
	}
	return out
}

func transitionOf(t uptime.Transition) Transition {
	out := Transition{
		ID: t.ID, EventID: t.EventID, SeverityBefore: t.SeverityBefore, SeverityAfter: t.SeverityAfter,
		StateAfter: t.StateAfter, Reason: t.Reason, Source: t.Source, Metadata: metadataOf(t.Metadata),
		ChangedAt: utc(t.ChangedAt),
	}
	if t.StateBefore != "" {
		out.StateBefore = ptr(t.StateBefore)
	}
	return out
}

// metadataOf is m, never nil (JSON {} rather than null).
func metadataOf(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}

// confirmationOf reads a transition's votes; ok is false without any.
func confirmationOf(t uptime.Transition) (Confirmation, bool) {
	raw, ok := t.Metadata[metaVotes]
	if !ok {
		return Confirmation{}, false
	}
	var votes []voteMeta
	b, err := json.Marshal(raw)
	if err != nil || json.Unmarshal(b, &votes) != nil {
		return Confirmation{}, false
	}
	c := Confirmation{TransitionID: t.ID, Reason: t.Reason, DecidedAt: utc(t.ChangedAt),
		Responders: len(votes), VotesByRegion: map[string][]Vote{}}
	if q, ok := t.Metadata[metaQuorum].(float64); ok {
		c.Quorum = ptr(int(q))
	} else if q, ok := t.Metadata[metaQuorum].(int); ok {
		c.Quorum = ptr(q)
	}
	for _, v := range votes {
		if v.Up {
			c.Disagreed++
		} else {
			c.Confirmed++
		}
		if v.CheckedAt != nil {
			v.CheckedAt = timePtr(*v.CheckedAt)
		}
		c.VotesByRegion[v.Region] = append(c.VotesByRegion[v.Region], v.Vote)
	}
	for region := range c.VotesByRegion {
		slices.SortFunc(c.VotesByRegion[region], func(a, b Vote) int { return cmp.Compare(a.NodeID, b.NodeID) })
	}
	return c, true
}

// CloseEventRequest is the optional body of an event close.
type CloseEventRequest struct {
	Reason *uptime.Reason `json:"reason,omitempty" doc:"default manual_override; one of manual_override, false_alarm, maintenance_swallowed, superseded, auto_timeout"`
	Note   *string        `json:"note,omitempty" doc:"at most 1000 characters, kept in the transition"`
}

// closeReasons are the reasons an operator may close an event with.
func closeReasons() []uptime.Reason {
	return []uptime.Reason{uptime.ReasonManualOverride, uptime.ReasonFalseAlarm, uptime.ReasonMaintenanceSwallowed,
		uptime.ReasonSuperseded, uptime.ReasonAutoTimeout}
}

func reasonNames() []string {
	return []string{"opened", "severity_escalation", "severity_deescalation", "state_change", "verifier_confirmed",
		"verifier_cleared", "probe_cleared", "false_alarm", "manual_override", "maintenance_swallowed",
		"superseded", "auto_timeout", "cause_linked", "cause_unlinked"}
}
