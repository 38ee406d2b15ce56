package uptime_test

import (
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestEventTypes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		reason         uptime.Reason
		webhook, alert string // "" = none
	}{
		"opened":         {uptime.ReasonOpened, uptime.EventOpened, "alert.opened"},
		"escalation":     {uptime.ReasonSeverityEscalation, uptime.EventSeverityChanged, "alert.severity_changed"},
		"deescalation":   {uptime.ReasonSeverityDeescalation, uptime.EventSeverityChanged, "alert.severity_changed"},
		"state change":   {uptime.ReasonStateChange, uptime.EventStateChanged, "alert.state_changed"},
		"confirmed":      {uptime.ReasonVerifierConfirmed, uptime.EventStateChanged, "alert.state_changed"},
		"cause linked":   {uptime.ReasonCauseLinked, uptime.EventCauseLinked, ""},
		"cause unlinked": {uptime.ReasonCauseUnlinked, uptime.EventCauseUnlinked, ""},
		"verifier clear": {uptime.ReasonVerifierCleared, uptime.EventClosed, "alert.closed"},
		"probe cleared":  {uptime.ReasonProbeCleared, uptime.EventClosed, "alert.closed"},
		"false alarm":    {uptime.ReasonFalseAlarm, uptime.EventClosed, "alert.closed"},
		"manual":         {uptime.ReasonManualOverride, uptime.EventClosed, "alert.closed"},
		"maintenance":    {uptime.ReasonMaintenanceSwallowed, uptime.EventClosed, "alert.closed"},
		"superseded":     {uptime.ReasonSuperseded, uptime.EventClosed, "alert.closed"},
		"auto timeout":   {uptime.ReasonAutoTimeout, uptime.EventClosed, "alert.closed"},
		"unknown reason": {uptime.Reason("sideways"), "", ""},
		"empty reason":   {uptime.Reason(""), "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, ok := uptime.WebhookEventType(tc.reason); got != tc.webhook || ok != (tc.webhook != "") {
				t.Errorf("WebhookEventType = %q, %v; want %q", got, ok, tc.webhook)
			}
			if got, ok := uptime.AlertEventType(tc.reason); got != tc.alert || ok != (tc.alert != "") {
				t.Errorf("AlertEventType = %q, %v; want %q", got, ok, tc.alert)
			}
		})
	}
}

func TestSeverityNames(t *testing.T) {
	t.Parallel()
	want := map[uptime.Severity]string{uptime.SeverityUp: "Up", uptime.SeverityWarning: "Warning",
		uptime.SeverityDegraded: "Degraded", uptime.SeveritySeemsDown: "SeemsDown", uptime.SeverityDown: "Down"}
	for s, name := range want {
		if got := uptime.SeverityName(s); got != name {
			t.Errorf("SeverityName(%d) = %q, want %q", s, got, name)
		}
		if got, err := uptime.ParseSeverityName(name); err != nil || got != s {
			t.Errorf("ParseSeverityName(%q) = %d, %v; want %d", name, got, err, s)
		}
	}
	for _, bad := range []string{"", "Seems Down", "down", "Severity7"} {
		if _, err := uptime.ParseSeverityName(bad); err == nil {
			t.Errorf("ParseSeverityName(%q) accepted", bad)
		}
	}
	if got := uptime.SeverityName(9); got != "Severity9" {
		t.Errorf("SeverityName(9) = %q", got)
	}
}
