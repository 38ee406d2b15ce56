package alerttext_test

import (
	"slices"
	"testing"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/alerttext"
	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestSummaryAndTone(t *testing.T) {
	t.Parallel()
	at := func(s uptime.Severity) uptime.Notice {
		n := transporttest.DownNotice()
		n.Severity = s
		return n
	}
	noURL := transporttest.DownNotice()
	noURL.SiteURL = ""
	test := transporttest.TestSendNotice("https://test.invalid/x")
	recoveredTest := test
	recoveredTest.Recovery = true
	const shop = "https://example.com/shop"
	tests := map[string]struct {
		notice      uptime.Notice
		wantSummary string
		wantTone    alerttext.Tone
	}{
		"down":               {notice: at(uptime.SeverityDown), wantSummary: "Down: " + shop, wantTone: alerttext.ToneAlarm},
		"seems down":         {notice: at(uptime.SeveritySeemsDown), wantSummary: "SeemsDown: " + shop, wantTone: alerttext.ToneAlarm},
		"degraded":           {notice: at(uptime.SeverityDegraded), wantSummary: "Degraded: " + shop, wantTone: alerttext.ToneWarning},
		"warning":            {notice: transporttest.WarningNotice(), wantSummary: "Warning: " + shop, wantTone: alerttext.ToneWarning},
		"recovery":           {notice: transporttest.RecoveryNotice(), wantSummary: "Recovered: " + shop, wantTone: alerttext.ToneRecovery},
		"test send":          {notice: test, wantSummary: "[Jetmon test] https://test.invalid/x", wantTone: alerttext.ToneTest},
		"a test before all":  {notice: recoveredTest, wantSummary: "[Jetmon test] https://test.invalid/x", wantTone: alerttext.ToneTest},
		"no url is the site": {notice: noURL, wantSummary: "Down: site:123456789", wantTone: alerttext.ToneAlarm},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := alerttext.Summary(tc.notice); got != tc.wantSummary {
				t.Errorf("Summary = %q, want %q", got, tc.wantSummary)
			}
			if got := alerttext.ToneOf(tc.notice); got != tc.wantTone {
				t.Errorf("ToneOf = %q, want %q", got, tc.wantTone)
			}
		})
	}
}

func TestFacts(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		notice uptime.Notice
		want   []alerttext.Fact
	}{
		"with a reason": {notice: transporttest.DownNotice(), want: []alerttext.Fact{
			{Name: "Site ID", Value: "123456789"}, {Name: "Event", Value: "#777 (alert.opened)"},
			{Name: "State", Value: string(uptime.StateDown)}, {Name: "Reason", Value: string(uptime.ReasonVerifierConfirmed)},
			{Name: "Time", Value: "2026-03-14T15:09:26Z"},
		}},
		"without one": {notice: transporttest.WarningNotice(), want: []alerttext.Fact{
			{Name: "Site ID", Value: "123456789"}, {Name: "Event", Value: "#777 (alert.opened)"},
			{Name: "State", Value: string(uptime.StateWarning)}, {Name: "Time", Value: "2026-03-14T15:09:26Z"},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := alerttext.Facts(tc.notice); !slices.Equal(got, tc.want) {
				t.Errorf("Facts = %q, want %q", got, tc.want)
			}
		})
	}
}
