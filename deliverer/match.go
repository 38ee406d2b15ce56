package deliverer

import (
	"fmt"
	"slices"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Audit event types a fan-out writes instead of a notification.
const (
	AuditAlertSuppressed   = "alert_suppressed"
	AuditMaintenanceActive = "maintenance_active"
)

// suppressedMaintenance is the coordinator's maintenance suppression
// (incident.SuppressedMaintenance).
const suppressedMaintenance = "maintenance"

// target is one destination a transition goes to.
type target struct {
	kind          uptime.DeliveryKind
	destinationID int64
	eventType     string
}

// plan is a transition's fan-out: its deliveries and the audit rows of the
// notifications it suppressed.
type plan struct {
	targets []target
	audits  []Audit
}

// candidates are the destinations a transition is matched against.
type candidates struct {
	webhooks []uptime.Webhook
	contacts []uptime.AlertContact
	tenants  []string // the site's gateway tenants
	wpcom    bool     // legacy WPCOM notifications are enabled
}

// match decides where a transition goes:
//   - webhooks (a machine feed: every mapped transition, suppressed or
//     not): active, the reason maps to a webhook event type, and the
//     events, site and state allow-lists (empty: all) admit it;
//   - alert contacts: active, the reason maps to an alert event type, the
//     site filter admits it, the severity gate passes (after >= min, or a
//     recovery from >= min to Up; a null severity is Up) and the
//     coordinator did not suppress the notification (else one
//     alert_suppressed audit row per contact);
//   - WPCOM (when enabled): HTTP events' down and recovery decisions; a
//     suppressed one writes maintenance_active or alert_suppressed instead.
//
// A tenant-owned webhook or contact matches only sites of its tenant.
func match(m TransitionMessage, c candidates) plan {
	var p plan
	tr := m.Transition
	if eventType, ok := uptime.WebhookEventType(tr.Reason); ok {
		for _, w := range c.webhooks {
			if webhookMatches(w, eventType, m, c.tenants) {
				p.targets = append(p.targets, target{uptime.DeliveryWebhook, w.ID, eventType})
			}
		}
	}
	if eventType, ok := uptime.AlertEventType(tr.Reason); ok {
		for _, ac := range c.contacts {
			if !contactMatches(ac, m, c.tenants) {
				continue
			}
			if tr.Notify.Suppressed != "" {
				p.audits = append(p.audits, suppressedAudit(AuditAlertSuppressed, m, uptime.DeliveryAlert, ac.ID))
				continue
			}
			p.targets = append(p.targets, target{uptime.DeliveryAlert, ac.ID, eventType})
		}
	}
	if c.wpcom && wpcomApplies(tr) {
		switch {
		case tr.Notify.Notify:
			p.targets = append(p.targets, target{uptime.DeliveryWPCOM, 0, EventWPCOMStatusChange})
		case tr.Notify.Suppressed == suppressedMaintenance:
			p.audits = append(p.audits, suppressedAudit(AuditMaintenanceActive, m, uptime.DeliveryWPCOM, 0))
		default:
			p.audits = append(p.audits, suppressedAudit(AuditAlertSuppressed, m, uptime.DeliveryWPCOM, 0))
		}
	}
	return p
}

func webhookMatches(w uptime.Webhook, eventType string, m TransitionMessage, tenants []string) bool {
	return w.Active && tenantAllows(w.OwnerTenantID, tenants) &&
		(len(w.Events) == 0 || slices.Contains(w.Events, eventType)) &&
		(len(w.SiteIDs) == 0 || slices.Contains(w.SiteIDs, m.Transition.BlogID)) &&
		(len(w.States) == 0 || slices.Contains(w.States, m.Transition.StateAfter))
}

func contactMatches(c uptime.AlertContact, m TransitionMessage, tenants []string) bool {
	return c.Active && tenantAllows(c.OwnerTenantID, tenants) &&
		(len(c.SiteIDs) == 0 || slices.Contains(c.SiteIDs, m.Transition.BlogID)) &&
		severityGate(c.MinSeverity, m.Transition)
}

// severityGate is the alert contacts' severity rule: the transition reaches
// the contact's minimum, or recovers to Up from at or above it.
func severityGate(minSeverity uptime.Severity, tr uptime.Transition) bool {
	before, after := upIfNil(tr.SeverityBefore), upIfNil(tr.SeverityAfter)
	return after >= minSeverity || recovers(minSeverity, before, after)
}

// recovers reports whether a change from before to after is a recovery for
// a contact of minSeverity: from at or above it back to Up. Fan-out and
// the notice rendered at dispatch apply the same rule.
func recovers(minSeverity, before, after uptime.Severity) bool {
	return before >= minSeverity && after == uptime.SeverityUp
}

func upIfNil(s *uptime.Severity) uptime.Severity {
	if s == nil {
		return uptime.SeverityUp
	}
	return *s
}

// tenantAllows reports whether a destination owned by owner ("" for an
// internal one) may hear about a site of tenants.
func tenantAllows(owner string, tenants []string) bool {
	return owner == "" || slices.Contains(tenants, owner)
}

// wpcomApplies reports whether the legacy notification covers tr: an HTTP
// event's down (confirmed Down) or recovery decision. Seems Down is never
// sent.
func wpcomApplies(tr uptime.Transition) bool {
	return tr.CheckType == uptime.CheckTypeHTTP &&
		(tr.Notify.Kind == notifyDown || tr.Notify.Kind == notifyRecovery)
}

func suppressedAudit(eventType string, m TransitionMessage, kind uptime.DeliveryKind, destinationID int64) Audit {
	tr := m.Transition
	why := tr.Notify.Suppressed
	if why == "" {
		why = "not notified"
	}
	return Audit{
		EventType: eventType,
		Detail: fmt.Sprintf("%s notification of transition %d suppressed: %s",
			describe(kind, destinationID), tr.ID, why),
		Metadata: map[string]any{
			"transition_id": tr.ID, "kind": string(kind), "destination_id": destinationID,
			"suppressed": tr.Notify.Suppressed, "notification_kind": tr.Notify.Kind,
		},
	}
}

// describe names a destination in log and audit text.
func describe(kind uptime.DeliveryKind, destinationID int64) string {
	switch kind {
	case uptime.DeliveryWPCOM:
		return "WPCOM"
	case uptime.DeliveryAlert:
		return fmt.Sprintf("alert contact %d", destinationID)
	default:
		return fmt.Sprintf("%s %d", kind, destinationID)
	}
}
