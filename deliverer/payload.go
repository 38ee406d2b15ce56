package deliverer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// PayloadVersion is the frozen payload's "v".
const PayloadVersion = 1

// EventWPCOMStatusChange is the event type of legacy WPCOM notifications.
const EventWPCOMStatusChange = "wpcom.status_change"

// Payload is the frozen JSON of every delivery, built at fan-out and never
// rebuilt: the webhook body as is, and what alert notices and WPCOM status
// changes are rendered from at dispatch. docs/webhooks.md documents it;
// testdata/payload.golden.json freezes it.
type Payload struct {
	V            int                 `json:"v"`
	Type         string              `json:"type"`
	OccurredAt   time.Time           `json:"occurred_at"`
	Transition   PayloadTransition   `json:"transition"`
	Event        PayloadEvent        `json:"event"`
	Site         PayloadSite         `json:"site"`
	Check        *PayloadCheck       `json:"check"`
	Votes        []PayloadVote       `json:"votes"`
	Notification PayloadNotification `json:"notification"`
}

// PayloadTransition is the transition row. Severities are names (Up,
// Warning, Degraded, SeemsDown, Down); the before values are null on an
// open and severity_after is null on a close.
type PayloadTransition struct {
	ID             int64          `json:"id"`
	EventID        int64          `json:"event_id"`
	Reason         string         `json:"reason"`
	Source         string         `json:"source"`
	SeverityBefore *string        `json:"severity_before"`
	SeverityAfter  *string        `json:"severity_after"`
	StateBefore    *string        `json:"state_before"`
	StateAfter     string         `json:"state_after"`
	ChangedAt      time.Time      `json:"changed_at"`
	Metadata       map[string]any `json:"metadata"`
}

// PayloadEvent is the event right after the transition.
type PayloadEvent struct {
	ID               int64          `json:"id"`
	CheckType        string         `json:"check_type"`
	Severity         string         `json:"severity"`
	State            string         `json:"state"`
	StartedAt        time.Time      `json:"started_at"`
	EndedAt          *time.Time     `json:"ended_at"`
	ResolutionReason *string        `json:"resolution_reason"`
	Metadata         map[string]any `json:"metadata"`
}

// PayloadSite is the site the event is about.
type PayloadSite struct {
	ID     int64  `json:"id"`
	URL    string `json:"url"`
	Bucket int    `json:"bucket"`
}

// PayloadCheck is the local check the transition rests on: the one that
// cleared the event for a close, else the event's first failure. Null
// when the transition carries none.
type PayloadCheck struct {
	Region     string     `json:"region"`
	Success    bool       `json:"success"`
	HTTPCode   int        `json:"http_code"`
	ErrorCode  int        `json:"error_code"`
	ErrorName  string     `json:"error_name"`
	StatusType string     `json:"status_type"`
	RTTMs      int64      `json:"rtt_ms"`
	CheckedAt  *time.Time `json:"checked_at"`
}

// PayloadVote is one veriflier's vote of the confirmation the transition
// decided.
type PayloadVote struct {
	Region    string    `json:"region"`
	NodeID    string    `json:"node_id"`
	Up        bool      `json:"up"`
	HTTPCode  int       `json:"http_code"`
	ErrorCode int       `json:"error_code"`
	ErrorName string    `json:"error_name"`
	RTTMs     int64     `json:"rtt_ms"`
	DNSMs     int64     `json:"dns_ms"`
	TCPMs     int64     `json:"tcp_ms"`
	TLSMs     int64     `json:"tls_ms"`
	TTFBMs    int64     `json:"ttfb_ms"`
	CheckedAt time.Time `json:"checked_at"`
}

// PayloadNotification is the notification decision the coordinator took
// with the transition: webhooks get every transition and can read it here.
type PayloadNotification struct {
	Notify     bool   `json:"notify"`
	Suppressed string `json:"suppressed"`
	Kind       string `json:"kind"`
}

// BuildPayload freezes m as the payload of a delivery of eventType.
func BuildPayload(m TransitionMessage, eventType string) ([]byte, error) {
	b, err := json.Marshal(payloadOf(m, eventType))
	if err != nil {
		return nil, fmt.Errorf("payload of transition %d: %w", m.Transition.ID, err)
	}
	return b, nil
}

func payloadOf(m TransitionMessage, eventType string) Payload {
	tr, ev := m.Transition, m.Event
	p := Payload{
		V: PayloadVersion, Type: eventType, OccurredAt: tr.ChangedAt.UTC(),
		Transition: PayloadTransition{
			ID: tr.ID, EventID: tr.EventID, Reason: string(tr.Reason), Source: tr.Source,
			SeverityBefore: severityName(tr.SeverityBefore), SeverityAfter: severityName(tr.SeverityAfter),
			StateBefore: optString(string(tr.StateBefore)), StateAfter: string(tr.StateAfter),
			ChangedAt: tr.ChangedAt.UTC(), Metadata: orEmpty(tr.Metadata),
		},
		Event: PayloadEvent{
			ID: ev.ID, CheckType: ev.CheckType, Severity: uptime.SeverityName(ev.Severity), State: string(ev.State),
			StartedAt: ev.StartedAt.UTC(), EndedAt: optTime(ev.EndedAt),
			ResolutionReason: optString(string(ev.ResolutionReason)), Metadata: orEmpty(ev.Metadata),
		},
		Site:  PayloadSite{ID: m.Site.BlogID, URL: m.Site.Spec.URL, Bucket: m.Site.Bucket},
		Check: localCheck(tr, ev),
		Votes: make([]PayloadVote, 0, len(m.Votes)),
		Notification: PayloadNotification{Notify: tr.Notify.Notify, Suppressed: tr.Notify.Suppressed,
			Kind: tr.Notify.Kind},
	}
	if p.Site.ID == 0 {
		p.Site.ID = tr.BlogID
	}
	for _, v := range m.Votes {
		p.Votes = append(p.Votes, PayloadVote{
			Region: v.Region, NodeID: v.NodeID, Up: v.Up, HTTPCode: v.HTTPCode,
			ErrorCode: int(v.ErrorCode), ErrorName: v.ErrorCode.String(),
			RTTMs: v.RTT.Milliseconds(), DNSMs: v.DNS.Milliseconds(), TCPMs: v.TCP.Milliseconds(),
			TLSMs: v.TLS.Milliseconds(), TTFBMs: v.TTFB.Milliseconds(), CheckedAt: v.CheckedAt.UTC(),
		})
	}
	return p
}

// localCheck finds the local check in the transition's metadata (a close
// carries the check that cleared it) or else the event's (the first
// failure); nil when neither has one.
func localCheck(tr uptime.Transition, ev uptime.Event) *PayloadCheck {
	meta, success := tr.Metadata, tr.StateAfter == uptime.StateResolved
	if _, ok := meta["checked_at"]; !ok {
		meta, success = ev.Metadata, false
	}
	if _, ok := meta["checked_at"]; !ok {
		return nil
	}
	c := &PayloadCheck{Success: success}
	c.Region, _ = meta["region"].(string)
	c.HTTPCode = int(number(meta["http_code"]))
	c.ErrorCode = int(number(meta["error_code"]))
	c.RTTMs = int64(number(meta["rtt_ms"]))
	code := uptime.ErrorCode(c.ErrorCode)
	c.ErrorName = code.String()
	c.StatusType = uptime.Result{Success: success, HTTPCode: c.HTTPCode, ErrorCode: code}.StatusType()
	if s, ok := meta["checked_at"].(string); ok {
		if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
			at = at.UTC()
			c.CheckedAt = &at
		}
	}
	return c
}

// number reads a metadata number: float64 after a JSON round trip, an int
// type when built in memory.
func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case json.Number:
		f, _ := n.Float64()
		return f
	default:
		return 0
	}
}

// ParsePayload decodes a frozen payload.
func ParsePayload(b []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		return Payload{}, fmt.Errorf("decode payload: %w", err)
	}
	switch {
	case p.V != PayloadVersion:
		return Payload{}, fmt.Errorf("decode payload: version %d, want %d", p.V, PayloadVersion)
	case p.Transition.ID <= 0 || p.Event.ID <= 0 || p.Site.ID <= 0:
		return Payload{}, errors.New("decode payload: transition, event and site ids are required")
	}
	return p, nil
}

// severity parses a payload severity name; null is Up (a close).
func severity(name *string) (uptime.Severity, error) {
	if name == nil {
		return uptime.SeverityUp, nil
	}
	s, err := uptime.ParseSeverityName(*name)
	if err != nil {
		return 0, fmt.Errorf("payload: %w", err)
	}
	return s, nil
}

func severityName(s *uptime.Severity) *string {
	if s == nil {
		return nil
	}
	name := uptime.SeverityName(*s)
	return &name
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// siteURL is the URL notices show: the site's, or "site:<id>".
func (p Payload) siteURL() string {
	if u := strings.TrimSpace(p.Site.URL); u != "" {
		return u
	}
	return fmt.Sprintf("site:%d", p.Site.ID)
}
