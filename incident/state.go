package incident

import (
	"maps"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// MetaDownNotified is the event metadata key (a bool) recording whether the
// open Down's notification was sent; Restore reads it back.
const MetaDownNotified = "down_notified"

// SiteState is what the decisions remember about one site between inputs.
// It is a value: Decide never modifies the state (or the maps) it is given
// and returns a new one.
type SiteState struct {
	// BlogID is the site. A zero state adopts the first input's blog; an
	// input naming another blog changes nothing.
	BlogID int64
	// Open holds the site's open events by check type.
	Open map[string]uptime.Event
	// LastCheckedAt is the CheckedAt of the newest result accepted. A result
	// at or before it is a replay or out of order and changes nothing.
	LastCheckedAt time.Time
	// Confirming is the verification request in flight, if any.
	Confirming Confirmation
	// AskAt is the local failure count (ProbeResult.Failures) at which an
	// open Seems Down asks for confirmation next; below NumOfChecks means
	// NumOfChecks. A request sets it NumOfChecks further; a success resets
	// it.
	AskAt int
	// LastDownNotifiedAt is when a down notification was last decided: the
	// cooldown's start (jetpack_monitor_sites.last_alert_sent_at).
	LastDownNotifiedAt time.Time
	// DownNotified reports whether the open Down's notification was sent;
	// its recovery is notified only then.
	DownNotified bool
}

// Confirmation is a verification request in flight.
type Confirmation struct {
	// StartedAt is the started_at of the Seems Down event asked about; zero
	// when nothing is in flight.
	StartedAt time.Time
	// Result is the local failure that asked: a false alarm's evidence.
	Result uptime.ProbeResult
}

// InFlight reports whether a request is waiting for its outcome.
func (c Confirmation) InFlight() bool { return !c.StartedAt.IsZero() }

// Restore rebuilds a site's state from what the store keeps: its open events,
// the last check time written with them (jetpack_monitor_sites
// .last_checked_at) and the last down notification
// (last_alert_sent_at). A confirmation in flight is not restored: an open
// Seems Down asks again on its next failure once NumOfChecks are counted.
func Restore(blogID int64, open []uptime.Event, lastCheckedAt, lastDownNotifiedAt time.Time) SiteState {
	s := SiteState{BlogID: blogID, Open: map[string]uptime.Event{},
		LastCheckedAt: lastCheckedAt, LastDownNotifiedAt: lastDownNotifiedAt}
	for _, ev := range open {
		if !ev.Open() || ev.BlogID != blogID {
			continue
		}
		s.Open[ev.CheckType] = ev
		if ev.CheckType == uptime.CheckTypeHTTP && ev.State == uptime.StateDown {
			notified, _ := ev.Metadata[MetaDownNotified].(bool)
			s.DownNotified = notified
		}
	}
	return s
}

// clone returns s with its own copy of the open-events map.
func (s SiteState) clone() SiteState {
	open := maps.Clone(s.Open)
	if open == nil {
		open = map[string]uptime.Event{}
	}
	s.Open = open
	return s
}

// Projection is the legacy site_status of a site with these open events,
// the same rule the store applies in SQL: LegacySiteConfirmedDown (2) if an
// open HTTP event is Down, else LegacySiteDown (0) if one is Seems Down, else
// LegacySiteRunning (1). Advisories never count.
func Projection(open map[string]uptime.Event) uptime.LegacyStatus {
	status := uptime.LegacySiteRunning
	for _, ev := range open {
		if ev.CheckType != uptime.CheckTypeHTTP || !ev.Open() {
			continue
		}
		switch ev.State {
		case uptime.StateDown:
			return uptime.LegacySiteConfirmedDown
		case uptime.StateSeemsDown:
			status = uptime.LegacySiteDown
		default:
		}
	}
	return status
}
