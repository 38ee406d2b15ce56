package alerttext

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Summary is "[Jetmon test] <site>", "Recovered: <site>" or
// "<SeverityName>: <site>", with the site as Site gives it.
func Summary(n uptime.Notice) string {
	switch ToneOf(n) {
	case ToneTest:
		return "[Jetmon test] " + Site(n)
	case ToneRecovery:
		return "Recovered: " + Site(n)
	default:
		return uptime.SeverityName(n.Severity) + ": " + Site(n)
	}
}

// Site is the notice's URL, or "site:<id>" without one.
func Site(n uptime.Notice) string {
	if n.SiteURL != "" {
		return n.SiteURL
	}
	return "site:" + strconv.FormatInt(n.SiteID, 10)
}

// Fact is one named detail of a notice, as plain text.
type Fact struct {
	Name  string
	Value string
}

// Facts are, in order: "Site ID", "Event" ("#<id> (<type>)"), "State",
// "Reason" when there is one, and "Time" (RFC3339, UTC).
func Facts(n uptime.Notice) []Fact {
	facts := []Fact{
		{Name: "Site ID", Value: strconv.FormatInt(n.SiteID, 10)},
		{Name: "Event", Value: fmt.Sprintf("#%d (%s)", n.EventID, n.EventType)},
		{Name: "State", Value: string(n.State)},
	}
	if n.Reason != "" {
		facts = append(facts, Fact{Name: "Reason", Value: string(n.Reason)})
	}
	return append(facts, Fact{Name: "Time", Value: n.OccurredAt.UTC().Format(time.RFC3339)})
}

// Tone is how a notice should look: the transports map it to an emoji or a
// color.
type Tone string

// Tones, from the first that applies: a test send, a recovery, an alarm
// (Seems Down and worse), else a warning.
const (
	ToneTest     Tone = "test"
	ToneRecovery Tone = "recovery"
	ToneAlarm    Tone = "alarm"
	ToneWarning  Tone = "warning"
)

// ToneOf is n's tone.
func ToneOf(n uptime.Notice) Tone {
	switch {
	case n.Test:
		return ToneTest
	case n.Recovery:
		return ToneRecovery
	case n.Severity >= uptime.SeveritySeemsDown:
		return ToneAlarm
	default:
		return ToneWarning
	}
}
