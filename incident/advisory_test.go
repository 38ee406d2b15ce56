package incident_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestTLSExpiry(t *testing.T) {
	t.Parallel()
	const (
		warning  = "open tls_expiry Warning/1 opened local notify:advisory"
		degraded = "open tls_expiry Degraded/2 opened local notify:advisory"
	)
	runScenarios(t, []scenario{
		{name: "more than 30 days opens nothing",
			steps: []step{cert(0, days(31))}, status: runningStatus},
		{name: "30 days opens Warning",
			steps: []step{cert(0, days(30))}, want: []string{warning}, status: runningStatus},
		{name: "days are floored: 30 days and 23 hours is 30",
			steps: []step{cert(0, days(31)-time.Hour)}, want: []string{warning}, status: runningStatus},
		{name: "8 days is still Warning",
			steps: []step{cert(0, days(8))}, want: []string{warning}, status: runningStatus},
		{name: "7 days opens Degraded",
			steps: []step{cert(0, days(7))}, want: []string{degraded}, status: runningStatus},
		{name: "an expired certificate is Degraded, never downtime",
			steps: []step{cert(0, -time.Hour)}, want: []string{degraded}, status: runningStatus},
		{name: "the same tier again changes nothing",
			steps: []step{cert(0, days(20)), cert(1, days(20)), cert(60*24, days(19))},
			want:  []string{warning}, status: runningStatus},
		{name: "severity_escalation: Warning to Degraded",
			steps: []step{cert(0, days(9)), cert(2*24*60, days(7))},
			want: []string{warning,
				"update tls_expiry Warning/1>Degraded/2 severity_escalation local notify:advisory"},
			status: runningStatus},
		{name: "severity_deescalation: Degraded to Warning after a renewal to a short certificate",
			steps: []step{cert(0, days(3)), cert(1, days(14))},
			want: []string{degraded,
				"update tls_expiry Degraded/2>Warning/1 severity_deescalation local notify:advisory"},
			status: runningStatus},
		{name: "verifier_cleared: renewed beyond 30 days",
			steps:  []step{cert(0, days(3)), cert(1, days(90))},
			want:   []string{degraded, "close tls_expiry Degraded/2>Resolved verifier_cleared local notify:advisory"},
			status: runningStatus},
		{name: "a result without a certificate leaves it open",
			steps: []step{cert(0, days(3)), ok(1), fail(2, 1)},
			want:  []string{degraded, openSeemsDown}, status: seemsDownStatus},
		{name: "a failing check's certificate counts too",
			steps: []step{failCert(0, 1, days(2))},
			want:  []string{openSeemsDown, degraded}, status: seemsDownStatus},
		{name: "tiers follow the policy",
			tune:  func(p *incident.Policy) { p.TLSWarningDays, p.TLSDegradedDays = 14, 3 },
			steps: []step{cert(0, days(20)), cert(1, days(14)), cert(2, days(3))},
			want: []string{warning,
				"update tls_expiry Warning/1>Degraded/2 severity_escalation local notify:advisory"},
			status: runningStatus},
	})
}

func TestTLSDeprecated(t *testing.T) {
	t.Parallel()
	const opened = "open tls_deprecated Warning/1 opened local notify:advisory"
	runScenarios(t, []scenario{
		{name: "TLS 1.0 opens Warning",
			steps: []step{handshake(0, tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA)},
			want:  []string{opened}, status: runningStatus},
		{name: "TLS 1.1 opens Warning once",
			steps: []step{handshake(0, tls.VersionTLS11, tls.TLS_RSA_WITH_AES_128_CBC_SHA),
				handshake(1, tls.VersionTLS11, tls.TLS_RSA_WITH_AES_128_CBC_SHA)},
			want: []string{opened}, status: runningStatus},
		{name: "a modern handshake closes it with probe_cleared",
			steps: []step{handshake(0, tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA),
				handshake(1, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)},
			want:   []string{opened, "close tls_deprecated Warning/1>Resolved probe_cleared local notify:advisory"},
			status: runningStatus},
		{name: "no handshake changes nothing",
			steps: []step{handshake(0, tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA), ok(1), fail(2, 1)},
			want:  []string{opened, openSeemsDown}, status: seemsDownStatus},
		{name: "a modern handshake with nothing open changes nothing",
			steps: []step{handshake(0, tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256)}, status: runningStatus},
	})
}

// Advisories never move HTTP state or the projection, whatever they do.
func TestAdvisoriesNeverTouchHTTP(t *testing.T) {
	t.Parallel()
	runScenarios(t, []scenario{
		{name: "advisories alone keep the site running",
			steps: []step{cert(0, days(2)), handshake(1, tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA),
				cert(2, -time.Hour)},
			want: []string{"open tls_expiry Degraded/2 opened local notify:advisory",
				"open tls_deprecated Warning/1 opened local notify:advisory",
				"close tls_deprecated Warning/1>Resolved probe_cleared local notify:advisory"},
			status: runningStatus},
		{name: "an advisory move leaves Seems Down as it is",
			steps: []step{fail(0, 1), failCert(1, 2, days(20)), failCert(2*24*60, 3, days(5))},
			want: []string{openSeemsDown, "open tls_expiry Warning/1 opened local notify:advisory",
				"update tls_expiry Warning/1>Degraded/2 severity_escalation local notify:advisory"},
			effects: []string{"verify started=0s failures=3"}, status: seemsDownStatus},
		{name: "closing the advisories leaves Down as it is",
			steps: steps(failing3(), []step{verify(3, confirm("eu"), confirm("ap")), failCert(4, 4, days(5)),
				failCert(5, 5, days(60)), closeCmd(6, incident.CloseInput{CheckType: uptime.CheckTypeTLSExpiry})}),
			want: []string{openSeemsDown, confirmedDown, "open tls_expiry Degraded/2 opened local notify:advisory",
				"close tls_expiry Degraded/2>Resolved verifier_cleared local notify:advisory"},
			effects: []string{askAtFirstFail}, status: downStatus},
	})
}
