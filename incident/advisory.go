package incident

import (
	"crypto/tls"
	"maps"
	"math"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// tlsExpiry applies a result's certificate expiry to the tls_expiry
// advisory: closed above TLSWarningDays, Warning down to TLSDegradedDays + 1,
// Degraded at TLSDegradedDays or fewer (days = floor(hours until / 24), as of
// the check). A tier move updates the event with refreshed metadata.
func (d *decision) tlsExpiry(r uptime.ProbeResult) {
	if r.SSLExpiry == nil {
		return
	}
	days := int(math.Floor(r.SSLExpiry.Sub(r.CheckedAt).Hours() / 24))
	meta := map[string]any{"days_until": days, "expires_at": r.SSLExpiry.UTC().Format(time.RFC3339)}
	ev, open := d.s.Open[uptime.CheckTypeTLSExpiry]
	sev, state := uptime.SeverityWarning, uptime.StateWarning
	switch {
	case days > d.p.TLSWarningDays:
		if open {
			d.close(ev, uptime.ReasonVerifierCleared, SourceLocal, meta, d.advisoryNotification())
		}
		return
	case days <= d.p.TLSDegradedDays:
		sev, state = uptime.SeverityDegraded, uptime.StateDegraded
	}
	switch {
	case !open:
		ev = d.newEvent(uptime.CheckTypeTLSExpiry, sev, state, r.CheckedAt, meta)
		d.open(ev, SourceLocal, d.advisoryNotification())
	case ev.Severity != sev:
		reason := uptime.ReasonSeverityEscalation
		if sev < ev.Severity {
			reason = uptime.ReasonSeverityDeescalation
		}
		after := ev
		after.Severity, after.State, after.Metadata = sev, state, meta
		d.update(ev, after, reason, SourceLocal, maps.Clone(meta), d.advisoryNotification())
	}
}

// tlsDeprecated applies a result's negotiated TLS version to the
// tls_deprecated advisory: TLS 1.1 or older opens a Warning, a modern
// handshake closes it (probe_cleared), no handshake changes nothing.
func (d *decision) tlsDeprecated(r uptime.ProbeResult) {
	if r.TLSVersion == 0 {
		return
	}
	ev, open := d.s.Open[uptime.CheckTypeTLSDeprecated]
	meta := map[string]any{
		"tls_version":      tls.VersionName(r.TLSVersion),
		"tls_version_code": int(r.TLSVersion),
		"cipher_suite":     tls.CipherSuiteName(r.CipherSuite),
		"cipher_suite_id":  int(r.CipherSuite),
	}
	deprecated := r.TLSVersion <= tls.VersionTLS11
	switch {
	case deprecated && !open:
		ev = d.newEvent(uptime.CheckTypeTLSDeprecated, uptime.SeverityWarning, uptime.StateWarning, r.CheckedAt, meta)
		d.open(ev, SourceLocal, d.advisoryNotification())
	case !deprecated && open:
		d.close(ev, uptime.ReasonProbeCleared, SourceLocal, meta, d.advisoryNotification())
	}
}
