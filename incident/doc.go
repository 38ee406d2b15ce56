// Package incident is the pure decision state machine of DESIGN §5: given one
// site's state, one input (a check result, a verification outcome, an
// operator close or a trigger-now result), the policy and the current time,
// Decide returns the site's new state, the incident changes to write (each
// exactly one transition, carrying its notification decision) and the effects
// the caller must carry out (ask verifliers, record a false positive).
//
// # Rules
//
// HTTP (check type "http"): the first failing check opens Seems Down (3) with
// started_at = that check's CheckedAt, frozen. When ProbeResult.Failures
// reaches NUM_OF_CHECKS, a RequestVerification effect asks verifliers;
// quorum = min(PEER_OFFLINE_LIMIT, responders), at least 1, of votes with
// Up=false promotes to Down (4), reason verifier_confirmed; fewer closes the
// event as false_alarm with a RecordFalsePositive effect. With no responders
// the event stays Seems Down and asks again once NUM_OF_CHECKS more failures
// have been counted since the last request; with no veriflier regions
// configured (Policy.HaveVerifiers false) the local failures confirm, reason
// verifier_confirmed, source "local". A success closes Seems Down as
// probe_cleared and Down as verifier_cleared. A Down site is not re-escalated
// while it keeps failing.
//
// Advisories (tls_expiry, tls_deprecated) come from any accepted result
// carrying certificate or handshake data. They are Warning (1) or Degraded
// (2), never downtime, never confirmed and never part of the legacy
// projection; a tls_expiry tier move is an update with severity_escalation or
// severity_deescalation and refreshed metadata.
//
// A result whose CheckedAt is not after the newest one accepted for the site
// (a replay or an out-of-order delivery) changes nothing, and so does a
// verification outcome for an event that is no longer the open Seems Down it
// asked about.
//
// # Times
//
// Every transition's ChangedAt is now, the decision time on the
// coordinator's clock, also for check-driven changes: transitions caused by
// checks and by verification outcomes interleave, and replaying them in
// changed_at order must follow the order they were decided in, which the
// probers' CheckedAt (another clock, ingested in batches) does not guarantee.
// A check's own time is the event's started_at and the "checked_at" of its
// metadata. Maintenance windows and cooldowns are judged at now as well.
//
// # Notifications
//
// Each transition carries an uptime.Notification: Kind down on
// verifier_confirmed (suppressed by an active maintenance window, then by the
// alert cooldown), Kind recovery on the close of a Down (suppressed by
// maintenance, or when the down was never notified), Kind advisory on every
// advisory transition (suppressed by maintenance). Seems Down's own
// transitions (opened, probe_cleared, false_alarm) mean no notification and
// carry the zero Notification. Maintenance suppresses notifications only:
// events open and close as usual.
//
// # Imports
//
// It imports uptime and the standard library only. It must not do I/O, start
// goroutines or read the clock, and must not import NATS, SQL, chi,
// Prometheus or any role or internal package.
package incident
