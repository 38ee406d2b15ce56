package sqlstore

import "github.com/jetmon-mesh/jetmon/uptime"

// DriftCause labels the likely cause of a projection drift, as Jetmon v2's
// projection-drift report does.
type DriftCause string

// Drift causes, in the order ClassifyDrift tests them.
const (
	// DriftUnexpectedProjectionValue: site_status (or the expected value)
	// is outside the v1 shape 0-2. Also the fallback.
	DriftUnexpectedProjectionValue DriftCause = "unexpected_projection_value"
	// DriftMultipleOpenHTTPEvents: the site has more than one open HTTP event.
	DriftMultipleOpenHTTPEvents DriftCause = "multiple_open_http_events"
	// DriftStaleLegacyDownProjection: the row reports downtime (0 or 2) but
	// the site has no open HTTP event.
	DriftStaleLegacyDownProjection DriftCause = "stale_legacy_down_projection"
	// DriftMissingConfirmedDownProjection: an open Down event, the row says running.
	DriftMissingConfirmedDownProjection DriftCause = "missing_confirmed_down_projection"
	// DriftMissingSeemsDownProjection: an open Seems Down event, the row says running.
	DriftMissingSeemsDownProjection DriftCause = "missing_seems_down_projection"
	// DriftMissingConfirmedPromotion: an open Down event, the row still says Seems Down.
	DriftMissingConfirmedPromotion DriftCause = "missing_confirmed_promotion"
	// DriftStaleConfirmedDownProjection: the row says confirmed down, the
	// open event is only Seems Down.
	DriftStaleConfirmedDownProjection DriftCause = "stale_confirmed_down_projection"
	// DriftUnexpectedOpenEventProjection: any other disagreement while an
	// open HTTP event exists, e.g. a row reporting downtime for an open
	// event whose state is neither Down nor Seems Down.
	DriftUnexpectedOpenEventProjection DriftCause = "unexpected_open_event_projection"
)

// DriftCauses lists every cause in classification order.
func DriftCauses() []DriftCause {
	return []DriftCause{
		DriftUnexpectedProjectionValue, DriftMultipleOpenHTTPEvents, DriftStaleLegacyDownProjection,
		DriftMissingConfirmedDownProjection, DriftMissingSeemsDownProjection, DriftMissingConfirmedPromotion,
		DriftStaleConfirmedDownProjection, DriftUnexpectedOpenEventProjection,
	}
}

// ClassifyDrift returns the likely cause of a drift between the stored
// site_status and the expected value, given the representative open event's
// state ("" when none) and the number of open HTTP events. The first
// matching rule wins:
//
//  1. site_status or expected outside 0-2: unexpected_projection_value
//  2. more than one open HTTP event: multiple_open_http_events
//  3. expected 1, site_status not 1, no open event: stale_legacy_down_projection
//  4. expected 2, site_status 1: missing_confirmed_down_projection
//  5. expected 0, site_status 1: missing_seems_down_projection
//  6. expected 2, site_status 0: missing_confirmed_promotion
//  7. expected 0, site_status 2: stale_confirmed_down_projection
//  8. an event state is known: unexpected_open_event_projection
//  9. otherwise: unexpected_projection_value
//
// It does not check that the two values differ.
func ClassifyDrift(siteStatus, expected uptime.LegacyStatus, eventState string, openEvents int) DriftCause {
	switch {
	case siteStatus > uptime.LegacySiteConfirmedDown || expected > uptime.LegacySiteConfirmedDown:
		return DriftUnexpectedProjectionValue
	case openEvents > 1:
		return DriftMultipleOpenHTTPEvents
	case expected == uptime.LegacySiteRunning && siteStatus != uptime.LegacySiteRunning && openEvents == 0:
		return DriftStaleLegacyDownProjection
	}
	if c, ok := pairCause(expected, siteStatus); ok {
		return c
	}
	if eventState != "" {
		return DriftUnexpectedOpenEventProjection
	}
	return DriftUnexpectedProjectionValue
}

// pairCause is the cause named by the expected value and site_status alone
// (rules 4-7 of ClassifyDrift).
func pairCause(expected, siteStatus uptime.LegacyStatus) (DriftCause, bool) {
	const (
		down      = uptime.LegacySiteDown
		running   = uptime.LegacySiteRunning
		confirmed = uptime.LegacySiteConfirmedDown
	)
	switch [2]uptime.LegacyStatus{expected, siteStatus} {
	case [2]uptime.LegacyStatus{confirmed, running}:
		return DriftMissingConfirmedDownProjection, true
	case [2]uptime.LegacyStatus{down, running}:
		return DriftMissingSeemsDownProjection, true
	case [2]uptime.LegacyStatus{confirmed, down}:
		return DriftMissingConfirmedPromotion, true
	case [2]uptime.LegacyStatus{down, confirmed}:
		return DriftStaleConfirmedDownProjection, true
	default:
		return "", false
	}
}
