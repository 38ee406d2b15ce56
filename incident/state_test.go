package incident_test

import (
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func ev(checkType string, sev uptime.Severity, state uptime.State) uptime.Event {
	return uptime.Event{ID: 7, BlogID: blog, CheckType: checkType, Severity: sev, State: state, StartedAt: at(0)}
}

func TestProjection(t *testing.T) {
	t.Parallel()
	seemsDown := ev(uptime.CheckTypeHTTP, uptime.SeveritySeemsDown, uptime.StateSeemsDown)
	down := ev(uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown)
	degraded := ev(uptime.CheckTypeTLSExpiry, uptime.SeverityDegraded, uptime.StateDegraded)
	deprecated := ev(uptime.CheckTypeTLSDeprecated, uptime.SeverityWarning, uptime.StateWarning)
	closedDown := down
	closedDown.EndedAt = at(5)
	// An advisory filed under the wrong key still never counts.
	misfiled := ev(uptime.CheckTypeTLSExpiry, uptime.SeverityDown, uptime.StateDown)
	tests := map[string]struct {
		open map[string]uptime.Event
		want uptime.LegacyStatus
	}{
		"nothing open":            {nil, uptime.LegacySiteRunning},
		"Seems Down":              {map[string]uptime.Event{"http": seemsDown}, uptime.LegacySiteDown},
		"Down":                    {map[string]uptime.Event{"http": down}, uptime.LegacySiteConfirmedDown},
		"Down with advisories":    {map[string]uptime.Event{"http": down, "tls_expiry": degraded}, uptime.LegacySiteConfirmedDown},
		"advisories only":         {map[string]uptime.Event{"tls_expiry": degraded, "tls_deprecated": deprecated}, uptime.LegacySiteRunning},
		"a closed event":          {map[string]uptime.Event{"http": closedDown}, uptime.LegacySiteRunning},
		"a non-HTTP Down":         {map[string]uptime.Event{"http": misfiled}, uptime.LegacySiteRunning},
		"Seems Down and advisory": {map[string]uptime.Event{"http": seemsDown, "tls_deprecated": deprecated}, uptime.LegacySiteDown},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := incident.Projection(tc.open); got != tc.want {
				t.Errorf("Projection = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	t.Parallel()
	notified := func(v bool) uptime.Event {
		e := ev(uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown)
		e.Metadata = map[string]any{incident.MetaDownNotified: v}
		return e
	}
	tests := map[string]struct {
		down     uptime.Event
		recovery string
	}{
		"a notified Down recovers with a notification": {notified(true),
			"close http Down/4>Resolved verifier_cleared local notify:recovery"},
		"an unnotified Down recovers quietly": {notified(false),
			"close http Down/4>Resolved verifier_cleared local quiet:recovery:not_notified_down"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			other := ev(uptime.CheckTypeTLSExpiry, uptime.SeverityWarning, uptime.StateWarning)
			other.BlogID = blog + 1
			ended := ev(uptime.CheckTypeTLSDeprecated, uptime.SeverityWarning, uptime.StateWarning)
			ended.EndedAt = at(1)
			s := incident.Restore(blog, []uptime.Event{tc.down, other, ended}, at(10), at(-5))
			if len(s.Open) != 1 || s.LastCheckedAt != at(10) || s.LastDownNotifiedAt != at(-5) {
				t.Fatalf("restored %+v: want only the blog's open Down and both times", s)
			}
			p := incident.DefaultPolicy()
			if _, changes, _ := incident.Decide(s, incident.CheckInput{Result: probe(9, true, 0)}, p, at(11)); len(changes) != 0 {
				t.Errorf("a result older than the restored last check changed %d events", len(changes))
			}
			_, changes, _ := incident.Decide(s, incident.CheckInput{Result: probe(11, true, 0)}, p, at(11))
			if len(changes) != 1 || summary(changes[0]) != tc.recovery || changes[0].Transition.EventID != 7 {
				t.Fatalf("recovery after restore: %d changes %v, want %q of event 7", len(changes), changes, tc.recovery)
			}
		})
	}
}

func TestIgnoredInputs(t *testing.T) {
	t.Parallel()
	p := incident.DefaultPolicy()
	opened, _, _ := incident.Decide(incident.SiteState{}, incident.CheckInput{Result: probe(0, false, 1)}, p, at(0))
	otherSite := uptime.Site{BlogID: blog + 1}
	noBlog := probe(1, false, 1)
	noBlog.BlogID = 0
	otherBlog := probe(1, true, 0)
	otherBlog.BlogID++
	noTime := probe(1, false, 1)
	noTime.CheckedAt = time.Time{}
	tests := map[string]struct {
		s  incident.SiteState
		in incident.Input
	}{
		"another blog's result":         {opened, incident.CheckInput{Result: otherBlog}},
		"another blog's close":          {opened, incident.CloseInput{Site: otherSite}},
		"another blog's verification":   {opened, incident.VerificationInput{StartedAt: at(0), Site: otherSite}},
		"a result naming no blog":       {incident.SiteState{}, incident.CheckInput{Result: noBlog}},
		"a result without a check time": {opened, incident.CheckInput{Result: noTime}},
		"a nil input":                   {opened, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, changes, effects := incident.Decide(tc.s, tc.in, p, at(2))
			if len(changes) != 0 || len(effects) != 0 || s.LastCheckedAt != tc.s.LastCheckedAt || len(s.Open) != len(tc.s.Open) {
				t.Errorf("ignored input decided %d changes, %d effects, state %+v", len(changes), len(effects), s)
			}
		})
	}
}

func TestZeroPolicyMeansJetmonDefaults(t *testing.T) {
	t.Parallel()
	rn := newRunner(t, incident.Policy{}, uptime.Site{})
	rn.run(fail(0, 1), fail(1, 2), fail(2, 3), cert(3, days(30)), cert(4, days(7)))
	got := make([]string, 0, len(rn.changes))
	for _, c := range rn.changes {
		got = append(got, summary(c))
	}
	want := []string{openSeemsDown,
		"update http Seems Down/3>Down/4 verifier_confirmed local notify:down",
		recovered,
		"open tls_expiry Warning/1 opened local notify:advisory",
		"update tls_expiry Warning/1>Degraded/2 severity_escalation local notify:advisory"}
	if len(got) != len(want) {
		t.Fatalf("changes %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %q, want %q", i, got[i], want[i])
		}
	}
}
