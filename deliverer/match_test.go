package deliverer

import (
	"fmt"
	"slices"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestMatchWebhooks(t *testing.T) {
	t.Parallel()
	hook := func(id int64, mod func(*uptime.Webhook)) uptime.Webhook {
		w := uptime.Webhook{ID: id, Active: true}
		if mod != nil {
			mod(&w)
		}
		return w
	}
	tests := map[string]struct {
		m       TransitionMessage
		hooks   []uptime.Webhook
		tenants []string
		want    []string // "kind/destination/event type"
	}{
		"no filters get every mapped transition": {
			m: downTransition(), hooks: []uptime.Webhook{hook(1, nil)},
			want: []string{"webhook/1/event.state_changed"},
		},
		"inactive webhook": {
			m: downTransition(), hooks: []uptime.Webhook{hook(1, func(w *uptime.Webhook) { w.Active = false })},
		},
		"event allow-list admits": {
			m: openTransition(), hooks: []uptime.Webhook{hook(1, func(w *uptime.Webhook) { w.Events = []string{uptime.EventOpened} })},
			want: []string{"webhook/1/event.opened"},
		},
		"event allow-list rejects": {
			m: downTransition(), hooks: []uptime.Webhook{hook(1, func(w *uptime.Webhook) { w.Events = []string{uptime.EventClosed} })},
		},
		"site filter": {
			m: downTransition(), hooks: []uptime.Webhook{
				hook(1, func(w *uptime.Webhook) { w.SiteIDs = []int64{5, 123456789} }),
				hook(2, func(w *uptime.Webhook) { w.SiteIDs = []int64{5} }),
			},
			want: []string{"webhook/1/event.state_changed"},
		},
		"state filter of Down never sees a close": {
			m: recoveryTransition(), hooks: []uptime.Webhook{
				hook(1, func(w *uptime.Webhook) { w.States = []uptime.State{uptime.StateDown} }),
				hook(2, func(w *uptime.Webhook) { w.States = []uptime.State{uptime.StateResolved} }),
			},
			want: []string{"webhook/2/event.closed"},
		},
		"suppressed transitions still reach webhooks": {
			m: func() TransitionMessage {
				m := downTransition()
				m.Transition.Notify = uptime.Notification{Suppressed: "maintenance", Kind: notifyDown}
				return m
			}(),
			hooks: []uptime.Webhook{hook(1, nil)},
			want:  []string{"webhook/1/event.state_changed"},
		},
		"tenant-owned webhook sees only its tenant's sites": {
			m: downTransition(), tenants: []string{"t1"},
			hooks: []uptime.Webhook{
				hook(1, func(w *uptime.Webhook) { w.OwnerTenantID = "t1" }),
				hook(2, func(w *uptime.Webhook) { w.OwnerTenantID = "t2" }),
			},
			want: []string{"webhook/1/event.state_changed"},
		},
		"unmapped reason": {
			m: func() TransitionMessage {
				m := downTransition()
				m.Transition.Reason = "something_new"
				return m
			}(),
			hooks: []uptime.Webhook{hook(1, nil)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := match(tc.m, candidates{webhooks: tc.hooks, tenants: tc.tenants})
			if got := targetNames(p); !slices.Equal(got, tc.want) {
				t.Errorf("targets = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMatchAlertContacts(t *testing.T) {
	t.Parallel()
	contact := func(id int64, min uptime.Severity) uptime.AlertContact {
		return uptime.AlertContact{ID: id, Active: true, MinSeverity: min, Transport: uptime.TransportEmail}
	}
	transition := func(before, after *uptime.Severity, reason uptime.Reason, suppressed string) TransitionMessage {
		m := downTransition()
		m.Transition.SeverityBefore, m.Transition.SeverityAfter, m.Transition.Reason = before, after, reason
		if after == nil {
			m.Transition.StateAfter = uptime.StateResolved
		}
		m.Transition.Notify.Suppressed = suppressed
		m.Transition.Notify.Notify = suppressed == ""
		return m
	}
	up, warn, degr, seems, down := sev(uptime.SeverityUp), sev(uptime.SeverityWarning), sev(uptime.SeverityDegraded),
		sev(uptime.SeveritySeemsDown), sev(uptime.SeverityDown)
	tests := map[string]struct {
		m          TransitionMessage
		contacts   []uptime.AlertContact
		want       []string
		suppressed []int64 // contacts with an alert_suppressed audit row
	}{
		"confirmed down reaches min Down": {
			m: transition(seems, down, uptime.ReasonVerifierConfirmed, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityDown)},
			want: []string{"alert/1/alert.state_changed"},
		},
		"open Seems Down below min Down": {
			m: transition(nil, seems, uptime.ReasonOpened, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityDown)},
		},
		"open Seems Down reaches min Warning": {
			m: transition(nil, seems, uptime.ReasonOpened, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityWarning)},
			want: []string{"alert/1/alert.opened"},
		},
		"recovery from min fires": {
			m: transition(down, nil, uptime.ReasonVerifierCleared, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityDown)},
			want: []string{"alert/1/alert.closed"},
		},
		"Seems Down cleared never pages min Down": {
			m: transition(seems, nil, uptime.ReasonProbeCleared, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityDown)},
		},
		"de-escalation below the gate without reaching Up": {
			m: transition(down, degr, uptime.ReasonSeverityDeescalation, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityDown)},
		},
		"change within the band fires": {
			m: transition(down, seems, uptime.ReasonSeverityDeescalation, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityWarning)},
			want: []string{"alert/1/alert.severity_changed"},
		},
		"explicit Up after counts as recovery": {
			m: transition(warn, up, uptime.ReasonSeverityDeescalation, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityWarning)},
			want: []string{"alert/1/alert.severity_changed"},
		},
		"cause links produce no alert": {
			m: transition(down, down, uptime.ReasonCauseLinked, ""), contacts: []uptime.AlertContact{contact(1, uptime.SeverityUp)},
		},
		"suppressed: audited per matching contact": {
			m: transition(seems, down, uptime.ReasonVerifierConfirmed, "cooldown"),
			contacts: []uptime.AlertContact{contact(1, uptime.SeverityDown), contact(2, uptime.SeverityDown),
				{ID: 3, MinSeverity: uptime.SeverityDown}},
			suppressed: []int64{1, 2},
		},
		"site filter": {
			m:        transition(seems, down, uptime.ReasonVerifierConfirmed, ""),
			contacts: []uptime.AlertContact{{ID: 1, Active: true, MinSeverity: uptime.SeverityDown, SiteIDs: []int64{42}}},
		},
		"tenant-owned contact of another tenant": {
			m:        transition(seems, down, uptime.ReasonVerifierConfirmed, ""),
			contacts: []uptime.AlertContact{{ID: 1, Active: true, MinSeverity: uptime.SeverityDown, OwnerTenantID: "t9"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := match(tc.m, candidates{contacts: tc.contacts})
			if got := targetNames(p); !slices.Equal(got, tc.want) {
				t.Errorf("targets = %q, want %q", got, tc.want)
			}
			var got []int64
			for _, a := range p.audits {
				if a.EventType != AuditAlertSuppressed || a.Metadata["kind"] != "alert" {
					t.Errorf("audit %+v", a)
				}
				got = append(got, a.Metadata["destination_id"].(int64))
			}
			if !slices.Equal(got, tc.suppressed) {
				t.Errorf("suppressed contacts = %v, want %v", got, tc.suppressed)
			}
		})
	}
}

func TestMatchWPCOM(t *testing.T) {
	t.Parallel()
	with := func(m TransitionMessage, mod func(*uptime.Transition)) TransitionMessage {
		mod(&m.Transition)
		return m
	}
	tests := map[string]struct {
		m       TransitionMessage
		enabled bool
		want    []string
		audit   string
	}{
		"confirmed down":           {m: downTransition(), enabled: true, want: []string{"wpcom/0/wpcom.status_change"}},
		"recovery":                 {m: recoveryTransition(), enabled: true, want: []string{"wpcom/0/wpcom.status_change"}},
		"disabled":                 {m: downTransition()},
		"Seems Down is never sent": {m: openTransition(), enabled: true},
		"maintenance": {
			m: with(downTransition(), func(tr *uptime.Transition) {
				tr.Notify = uptime.Notification{Suppressed: "maintenance", Kind: notifyDown}
			}),
			enabled: true, audit: AuditMaintenanceActive,
		},
		"cooldown": {
			m: with(downTransition(), func(tr *uptime.Transition) {
				tr.Notify = uptime.Notification{Suppressed: "cooldown", Kind: notifyDown}
			}),
			enabled: true, audit: AuditAlertSuppressed,
		},
		"recovery whose down was never notified": {
			m: with(recoveryTransition(), func(tr *uptime.Transition) {
				tr.Notify = uptime.Notification{Suppressed: "not_notified_down", Kind: notifyRecovery}
			}),
			enabled: true, audit: AuditAlertSuppressed,
		},
		"advisories are not status changes": {
			m: with(downTransition(), func(tr *uptime.Transition) {
				tr.CheckType, tr.Notify = uptime.CheckTypeTLSExpiry, uptime.Notification{Notify: true, Kind: "advisory"}
			}),
			enabled: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := match(tc.m, candidates{wpcom: tc.enabled})
			if got := targetNames(p); !slices.Equal(got, tc.want) {
				t.Errorf("targets = %q, want %q", got, tc.want)
			}
			var audit string
			if len(p.audits) == 1 {
				audit = p.audits[0].EventType
			} else if len(p.audits) > 1 {
				t.Fatalf("audits = %+v", p.audits)
			}
			if audit != tc.audit {
				t.Errorf("audit = %q, want %q", audit, tc.audit)
			}
		})
	}
}

func targetNames(p plan) []string {
	var out []string
	for _, t := range p.targets {
		out = append(out, fmt.Sprintf("%s/%d/%s", t.kind, t.destinationID, t.eventType))
	}
	return out
}
