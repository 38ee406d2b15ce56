package incident

import (
	"maps"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// http applies a result to the site's HTTP incident.
func (d *decision) http(r uptime.ProbeResult) {
	ev, open := d.s.Open[uptime.CheckTypeHTTP]
	if !r.IsFailure() {
		d.s.AskAt = 0
		if open {
			d.clearHTTP(ev, resultMeta(r))
		}
		return
	}
	if !open {
		ev = d.newEvent(uptime.CheckTypeHTTP, uptime.SeveritySeemsDown, uptime.StateSeemsDown,
			r.CheckedAt, resultMeta(r))
		d.open(ev, SourceLocal, uptime.Notification{})
	}
	// A Down site is not re-escalated; one request at a time.
	if ev.State != uptime.StateSeemsDown || d.s.Confirming.InFlight() {
		return
	}
	failures := max(r.Failures, 1)
	if failures < max(d.s.AskAt, d.p.NumOfChecks) {
		return
	}
	if !d.p.HaveVerifiers {
		meta := confirmMeta(nil, tally{})
		meta["confirmation"], meta["local_failures"] = SourceLocal, failures
		d.promote(ev, SourceLocal, meta)
		return
	}
	d.s.Confirming = Confirmation{StartedAt: ev.StartedAt, Result: r}
	d.s.AskAt = failures + d.p.NumOfChecks
	d.effects = append(d.effects, RequestVerification{BlogID: d.s.BlogID, StartedAt: ev.StartedAt, Result: r})
}

// clearHTTP closes the open HTTP event after a success: probe_cleared from
// Seems Down, verifier_cleared from Down (recovery trusts the local probe).
func (d *decision) clearHTTP(ev uptime.Event, meta map[string]any) {
	reason := uptime.ReasonProbeCleared
	if ev.State == uptime.StateDown {
		reason = uptime.ReasonVerifierCleared
	}
	d.closeHTTP(ev, reason, SourceLocal, meta)
}

// closeHTTP closes the open HTTP event with the recovery decision a Down
// needs, and forgets its confirmation.
func (d *decision) closeHTTP(ev uptime.Event, reason uptime.Reason, source string, meta map[string]any) {
	var n uptime.Notification
	if ev.State == uptime.StateDown {
		n = d.recoveryNotification()
	}
	d.close(ev, reason, source, meta, n)
	d.s.Confirming, d.s.DownNotified = Confirmation{}, false
}

// promote confirms the open Seems Down ev as Down, reason
// verifier_confirmed, with the down notification decision.
func (d *decision) promote(ev uptime.Event, source string, meta map[string]any) {
	n := d.downNotification()
	after := ev
	after.Severity, after.State = uptime.SeverityDown, uptime.StateDown
	after.Metadata = maps.Clone(ev.Metadata)
	if after.Metadata == nil {
		after.Metadata = map[string]any{}
	}
	after.Metadata[MetaDownNotified] = n.Notify
	d.update(ev, after, uptime.ReasonVerifierConfirmed, source, meta, n)
}

// resultMeta is the metadata of a local check: the HTTP opened shape
// {http_code, error_code, rtt_ms, url, method, keyword_rule} plus where and
// when it was checked.
func resultMeta(r uptime.ProbeResult) map[string]any {
	return map[string]any{
		"http_code":    r.HTTPCode,
		"error_code":   int(r.ErrorCode),
		"rtt_ms":       r.RTT.Milliseconds(),
		"url":          r.URL,
		"method":       r.Method,
		"keyword_rule": string(r.KeywordRule),
		"region":       r.Region,
		"checked_at":   r.CheckedAt.UTC().Format(time.RFC3339Nano),
	}
}
