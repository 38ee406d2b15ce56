package incident

import "github.com/jetmon-mesh/jetmon/uptime"

// Notification kinds (uptime.Notification.Kind).
const (
	KindDown     = "down"     // a Seems Down confirmed as Down
	KindRecovery = "recovery" // a Down closed
	KindAdvisory = "advisory" // any tls_expiry or tls_deprecated transition
)

// Why a notification is suppressed (uptime.Notification.Suppressed).
const (
	SuppressedMaintenance     = "maintenance"       // the site's maintenance window is active
	SuppressedCooldown        = "cooldown"          // a down notification was sent within the cooldown
	SuppressedNotNotifiedDown = "not_notified_down" // a recovery whose down was never notified
)

// inMaintenance reports whether the site's maintenance window is active at
// now: both ends set and start < now < end.
func (d *decision) inMaintenance() bool {
	start, end := d.site.MaintenanceStart, d.site.MaintenanceEnd
	return !start.IsZero() && !end.IsZero() && d.now.After(start) && d.now.Before(end)
}

// inCooldown reports whether a down notification was sent less than the
// cooldown ago (the site's override, else the policy's; zero or less
// disables it).
func (d *decision) inCooldown() bool {
	cooldown := d.site.AlertCooldown
	if cooldown == 0 {
		cooldown = d.p.AlertCooldown
	}
	last := d.s.LastDownNotifiedAt
	return cooldown > 0 && !last.IsZero() && d.now.Sub(last) < cooldown
}

// downNotification decides the down notification of a confirmation and
// records it: a sent one starts the cooldown and makes the recovery due.
func (d *decision) downNotification() uptime.Notification {
	n := uptime.Notification{Kind: KindDown}
	switch {
	case d.inMaintenance():
		n.Suppressed = SuppressedMaintenance
	case d.inCooldown():
		n.Suppressed = SuppressedCooldown
	default:
		n.Notify = true
		d.s.LastDownNotifiedAt = d.now
	}
	d.s.DownNotified = n.Notify
	return n
}

// recoveryNotification decides the notification of a Down's close: sent
// when the down was, unless the maintenance window is active. The cooldown
// never delays a recovery.
func (d *decision) recoveryNotification() uptime.Notification {
	n := uptime.Notification{Kind: KindRecovery}
	switch {
	case d.inMaintenance():
		n.Suppressed = SuppressedMaintenance
	case !d.s.DownNotified:
		n.Suppressed = SuppressedNotNotifiedDown
	default:
		n.Notify = true
	}
	return n
}

// advisoryNotification decides an advisory transition's notification.
func (d *decision) advisoryNotification() uptime.Notification {
	if d.inMaintenance() {
		return uptime.Notification{Kind: KindAdvisory, Suppressed: SuppressedMaintenance}
	}
	return uptime.Notification{Notify: true, Kind: KindAdvisory}
}
