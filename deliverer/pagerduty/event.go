package pagerduty

import (
	"github.com/jetmon-mesh/jetmon/deliverer/internal/alerttext"
	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// maxSummary is PagerDuty's limit on payload.summary.
const maxSummary = 1024

// event is an Events API v2 body.
type event struct {
	RoutingKey  string  `json:"routing_key"`
	EventAction string  `json:"event_action"` // trigger or resolve
	DedupKey    string  `json:"dedup_key"`
	Payload     payload `json:"payload"`
}

type payload struct {
	Summary       string  `json:"summary"`
	Source        string  `json:"source"`
	Severity      string  `json:"severity"` // critical, warning or info
	CustomDetails details `json:"custom_details"`
}

type details struct {
	SiteID    int64  `json:"site_id"`
	EventID   int64  `json:"event_id"`
	EventType string `json:"event_type"`
	State     string `json:"state"`
	Reason    string `json:"reason"`
	IsTest    bool   `json:"is_test"`
}

func newEvent(routingKey string, n uptime.Notice) event {
	action := "trigger"
	if n.Recovery && !n.Test {
		action = "resolve"
	}
	return event{
		RoutingKey: routingKey, EventAction: action, DedupKey: n.DedupKey,
		Payload: payload{
			Summary: httpsend.Clip(alerttext.Summary(n), maxSummary), Source: alerttext.Site(n),
			Severity: severity(n.Severity),
			CustomDetails: details{SiteID: n.SiteID, EventID: n.EventID, EventType: n.EventType,
				State: string(n.State), Reason: string(n.Reason), IsTest: n.Test},
		},
	}
}

// severity maps Down and Seems Down to critical, Degraded to warning, and
// the rest (Warning, Up) to info.
func severity(s uptime.Severity) string {
	switch {
	case s >= uptime.SeveritySeemsDown:
		return "critical"
	case s == uptime.SeverityDegraded:
		return "warning"
	default:
		return "info"
	}
}
