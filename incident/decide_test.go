package incident_test

import (
	"slices"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// scenario is one named story: steps in, every change and effect out, and
// the legacy projection at the end.
type scenario struct {
	name    string
	tune    func(p *incident.Policy)
	site    uptime.Site
	steps   []step
	want    []string // summary() of every change, in order
	effects []string // effectSummary() of every effect, in order
	status  uptime.LegacyStatus
}

func runScenarios(t *testing.T, rows []scenario) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := incident.DefaultPolicy()
			if tc.tune != nil {
				tc.tune(&p)
			}
			rn := newRunner(t, p, tc.site)
			rn.run(tc.steps...)
			got := make([]string, 0, len(rn.changes))
			for _, c := range rn.changes {
				got = append(got, summary(c))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes:\n got %q\nwant %q", got, tc.want)
			}
			var effects []string
			for _, e := range rn.effects {
				effects = append(effects, effectSummary(e))
			}
			if !slices.Equal(effects, tc.effects) {
				t.Errorf("effects:\n got %q\nwant %q", effects, tc.effects)
			}
			if got := incident.Projection(rn.s.Open); got != tc.status {
				t.Errorf("projection = %d, want %d", got, tc.status)
			}
		})
	}
}

// Lines of summary() used by many rows.
const (
	openSeemsDown   = "open http Seems Down/3 opened local"
	confirmedDown   = "update http Seems Down/3>Down/4 verifier_confirmed verifier notify:down"
	probeCleared    = "close http Seems Down/3>Resolved probe_cleared local"
	recovered       = "close http Down/4>Resolved verifier_cleared local notify:recovery"
	falseAlarm      = "close http Seems Down/3>Resolved false_alarm verifier"
	askAtFirstFail  = "verify started=0s failures=3"
	falsePositive   = "false_positive http=503 error=0"
	seemsDownStatus = uptime.LegacySiteDown
	downStatus      = uptime.LegacySiteConfirmedDown
	runningStatus   = uptime.LegacySiteRunning
)

// failing3 is three consecutive failures at minutes 0, 1 and 2: opens Seems
// Down and asks for confirmation on the third.
func failing3() []step { return []step{fail(0, 1), fail(1, 2), fail(2, 3)} }

// steps joins step lists.
func steps(lists ...[]step) []step { return slices.Concat(lists...) }

func TestHTTPReasons(t *testing.T) {
	t.Parallel()
	runScenarios(t, []scenario{
		{name: "opened: the first failure opens Seems Down",
			steps: []step{fail(0, 1)}, want: []string{openSeemsDown}, status: seemsDownStatus},
		{name: "failures before NUM_OF_CHECKS change nothing more",
			steps: []step{fail(0, 1), fail(1, 2)}, want: []string{openSeemsDown}, status: seemsDownStatus},
		{name: "NUM_OF_CHECKS failures ask for confirmation",
			steps: failing3(), want: []string{openSeemsDown}, effects: []string{askAtFirstFail}, status: seemsDownStatus},
		{name: "verifier_confirmed: every vote confirms",
			steps: steps(failing3(), []step{verify(3, confirm("eu"), confirm("ap"))}),
			want:  []string{openSeemsDown, confirmedDown}, effects: []string{askAtFirstFail}, status: downStatus},
		{name: "verifier_confirmed: quorum is capped by PEER_OFFLINE_LIMIT",
			tune:  func(p *incident.Policy) { p.PeerOfflineLimit = 1 },
			steps: steps(failing3(), []step{verify(3, confirm("eu"), disagree("ap"))}),
			want:  []string{openSeemsDown, confirmedDown}, effects: []string{askAtFirstFail}, status: downStatus},
		{name: "verifier_confirmed: quorum is at most the responders",
			steps: steps(failing3(), []step{verify(3, confirm("eu"))}),
			want:  []string{openSeemsDown, confirmedDown}, effects: []string{askAtFirstFail}, status: downStatus},
		{name: "false_alarm: quorum missed",
			steps: steps(failing3(), []step{verify(3, confirm("eu"), disagree("ap"))}),
			want:  []string{openSeemsDown, falseAlarm}, effects: []string{askAtFirstFail, falsePositive}, status: runningStatus},
		{name: "false_alarm: every vote disagrees",
			steps: steps(failing3(), []step{verify(3, disagree("eu"), disagree("ap"))}),
			want:  []string{openSeemsDown, falseAlarm}, effects: []string{askAtFirstFail, falsePositive}, status: runningStatus},
		{name: "probe_cleared: success while Seems Down",
			steps: []step{fail(0, 1), ok(1)}, want: []string{openSeemsDown, probeCleared}, status: runningStatus},
		{name: "probe_cleared: success while a confirmation is in flight",
			steps: steps(failing3(), []step{ok(3)}),
			want:  []string{openSeemsDown, probeCleared}, effects: []string{askAtFirstFail}, status: runningStatus},
		{name: "verifier_cleared: success while Down",
			steps: steps(failing3(), []step{verify(3, confirm("eu"), confirm("ap")), ok(4)}),
			want:  []string{openSeemsDown, confirmedDown, recovered}, effects: []string{askAtFirstFail}, status: runningStatus},
		{name: "a success with nothing open changes nothing",
			steps: []step{ok(0), ok(1)}, status: runningStatus},
		{name: "a deprecated-TLS success is a success for HTTP",
			steps: []step{fail(0, 1), handshake(1, 0x0301, 0x002f)},
			want: []string{openSeemsDown, probeCleared,
				"open tls_deprecated Warning/1 opened local notify:advisory"}, status: runningStatus},
	})
}

func TestHTTPSettledAmbiguities(t *testing.T) {
	t.Parallel()
	runScenarios(t, []scenario{
		{name: "Down is not re-escalated while it keeps failing",
			steps: steps(failing3(), []step{verify(3, confirm("eu"), confirm("ap")),
				fail(4, 4), fail(5, 5), fail(6, 6), fail(7, 7), fail(20, 8)}),
			want: []string{openSeemsDown, confirmedDown}, effects: []string{askAtFirstFail}, status: downStatus},
		{name: "no responders: stays Seems Down and asks again after NUM_OF_CHECKS more failures",
			steps:   steps(failing3(), []step{verify(3), fail(4, 4), fail(5, 5), fail(6, 6)}),
			want:    []string{openSeemsDown},
			effects: []string{askAtFirstFail, "verify started=0s failures=6"},
			status:  seemsDownStatus},
		{name: "no responders, then the second confirmation succeeds",
			steps: steps(failing3(), []step{verify(3), fail(4, 4), fail(5, 5), fail(6, 6),
				verify(7, confirm("eu"), confirm("ap"))}),
			want:    []string{openSeemsDown, confirmedDown},
			effects: []string{askAtFirstFail, "verify started=0s failures=6"}, status: downStatus},
		{name: "failures while a confirmation is in flight ask nothing more",
			steps:   steps(failing3(), []step{fail(3, 4), fail(4, 5), fail(5, 6), fail(6, 7)}),
			want:    []string{openSeemsDown},
			effects: []string{askAtFirstFail}, status: seemsDownStatus},
		{name: "no veriflier regions: NUM_OF_CHECKS local failures confirm",
			tune:  func(p *incident.Policy) { p.HaveVerifiers = false },
			steps: failing3(),
			want: []string{openSeemsDown,
				"update http Seems Down/3>Down/4 verifier_confirmed local notify:down"}, status: downStatus},
		{name: "no veriflier regions and NUM_OF_CHECKS 1: opened and confirmed by one failure",
			tune:  func(p *incident.Policy) { p.HaveVerifiers, p.NumOfChecks = false, 1 },
			steps: []step{fail(0, 1)},
			want: []string{openSeemsDown,
				"update http Seems Down/3>Down/4 verifier_confirmed local notify:down"}, status: downStatus},
		{name: "after a false alarm a new Seems Down counts NUM_OF_CHECKS again",
			steps: steps(failing3(), []step{verify(3, disagree("eu"), disagree("ap")),
				fail(4, 4), fail(5, 5), fail(6, 6)}),
			want:    []string{openSeemsDown, falseAlarm, openSeemsDown},
			effects: []string{askAtFirstFail, falsePositive, "verify started=4m0s failures=6"},
			status:  seemsDownStatus},
		{name: "a replayed result changes nothing",
			steps: []step{fail(0, 1), fail(0, 1), ok(1), ok(1), fail(0, 1)},
			want:  []string{openSeemsDown, probeCleared}, status: runningStatus},
		{name: "an out-of-order (older) result changes nothing",
			steps: []step{fail(5, 1), ok(4), fail(3, 1)},
			want:  []string{openSeemsDown}, status: seemsDownStatus},
		{name: "a late outcome after probe_cleared changes nothing",
			steps: steps(failing3(), []step{ok(3), verify(4, confirm("eu"), confirm("ap"))}),
			want:  []string{openSeemsDown, probeCleared}, effects: []string{askAtFirstFail}, status: runningStatus},
		{name: "an outcome for a replaced event changes nothing",
			steps: steps(failing3(), []step{
				closeCmd(3, incident.CloseInput{CheckType: uptime.CheckTypeHTTP, Source: "operator:alice"}),
				fail(4, 4), verifyFor(5, at(0), confirm("eu"), confirm("ap"))}),
			want: []string{openSeemsDown,
				"close http Seems Down/3>Resolved manual_override operator:alice", openSeemsDown},
			effects: []string{askAtFirstFail}, status: seemsDownStatus},
		{name: "an outcome nobody asked for changes nothing",
			steps: []step{fail(0, 1), verifyFor(1, at(0), confirm("eu"))},
			want:  []string{openSeemsDown}, status: seemsDownStatus},
		{name: "a second outcome for the same request changes nothing",
			steps: steps(failing3(), []step{verify(3, confirm("eu"), disagree("ap")), verify(4, confirm("eu"), confirm("ap"))}),
			want:  []string{openSeemsDown, falseAlarm}, effects: []string{askAtFirstFail, falsePositive}, status: runningStatus},
	})
}

func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	down := steps(failing3(), []step{verify(3, confirm("eu"), confirm("ap")), failCert(4, 4, days(5))})
	runScenarios(t, []scenario{
		{name: "manual_override: event.close of the HTTP event with a note",
			steps: []step{fail(0, 1), closeCmd(1, incident.CloseInput{CheckType: uptime.CheckTypeHTTP,
				Source: "operator:alice", Note: "known outage"})},
			want:   []string{openSeemsDown, "close http Seems Down/3>Resolved manual_override operator:alice"},
			status: runningStatus},
		{name: "closing every event: default reason and source, recovery and advisory decisions",
			steps: steps(down, []step{closeCmd(5, incident.CloseInput{})}),
			want: []string{openSeemsDown, confirmedDown,
				"open tls_expiry Degraded/2 opened local notify:advisory",
				"close http Down/4>Resolved manual_override operator notify:recovery",
				"close tls_expiry Degraded/2>Resolved manual_override operator notify:advisory"},
			effects: []string{askAtFirstFail}, status: runningStatus},
		{name: "closing one check type leaves the others open",
			steps: steps(down, []step{closeCmd(5, incident.CloseInput{CheckType: uptime.CheckTypeTLSExpiry,
				Reason: uptime.ReasonSuperseded, Source: "operator:bob"})}),
			want: []string{openSeemsDown, confirmedDown,
				"open tls_expiry Degraded/2 opened local notify:advisory",
				"close tls_expiry Degraded/2>Resolved superseded operator:bob notify:advisory"},
			effects: []string{askAtFirstFail}, status: downStatus},
		{name: "closing what is not open is an idempotent no-op",
			steps: []step{fail(0, 1), ok(1), closeCmd(2, incident.CloseInput{CheckType: uptime.CheckTypeHTTP}),
				closeCmd(3, incident.CloseInput{})},
			want: []string{openSeemsDown, probeCleared}, status: runningStatus},
		{name: "trigger-now success closes every open event with probe_cleared",
			steps: steps(down, []step{trigger(5, true)}),
			want: []string{openSeemsDown, confirmedDown,
				"open tls_expiry Degraded/2 opened local notify:advisory",
				"close http Down/4>Resolved probe_cleared operator:alice notify:recovery",
				"close tls_expiry Degraded/2>Resolved probe_cleared operator:alice notify:advisory"},
			effects: []string{askAtFirstFail}, status: runningStatus},
		{name: "trigger-now failure opens nothing",
			steps: []step{trigger(0, false), trigger(1, false)}, status: runningStatus},
		{name: "trigger-now failure closes nothing",
			steps: []step{fail(0, 1), trigger(1, false)},
			want:  []string{openSeemsDown}, status: seemsDownStatus},
		{name: "trigger-now failure does not hide a check of the same time from ingestion",
			steps: []step{trigger(0, false), fail(0, 1)},
			want:  []string{openSeemsDown}, status: seemsDownStatus},
		{name: "an old trigger-now result changes nothing",
			steps: []step{fail(5, 1), trigger(4, true)},
			want:  []string{openSeemsDown}, status: seemsDownStatus},
	})
}

// window is a site whose maintenance window spans minutes from to to.
func window(from, to int) uptime.Site {
	return uptime.Site{MaintenanceStart: at(from), MaintenanceEnd: at(to)}
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	downAt := func(m int) []step { // three failures from minute m, confirmed one minute later
		return []step{fail(m, 1), fail(m+1, 2), fail(m+2, 3), verify(m+3, confirm("eu"), confirm("ap"))}
	}
	ask := func(m int) string {
		return "verify started=" + (time.Duration(m) * time.Minute).String() + " failures=3"
	}
	runScenarios(t, []scenario{
		{name: "maintenance suppresses the down notification, not the event",
			site: window(-10, 60), steps: downAt(0),
			want: []string{openSeemsDown,
				"update http Seems Down/3>Down/4 verifier_confirmed verifier quiet:down:maintenance"},
			effects: []string{ask(0)}, status: downStatus},
		{name: "maintenance suppresses the recovery",
			site: window(3, 60), steps: steps(downAt(-5), []step{ok(10)}),
			want: []string{openSeemsDown, confirmedDown,
				"close http Down/4>Resolved verifier_cleared local quiet:recovery:maintenance"},
			effects: []string{ask(-5)}, status: runningStatus},
		{name: "a recovery is not notified when its down was not",
			site: window(-10, 5), steps: steps(downAt(0), []step{ok(10)}),
			want: []string{openSeemsDown,
				"update http Seems Down/3>Down/4 verifier_confirmed verifier quiet:down:maintenance",
				"close http Down/4>Resolved verifier_cleared local quiet:recovery:not_notified_down"},
			effects: []string{ask(0)}, status: runningStatus},
		{name: "maintenance bounds are exclusive",
			site: window(3, 4), steps: downAt(0),
			want: []string{openSeemsDown, confirmedDown}, effects: []string{ask(0)}, status: downStatus},
		{name: "maintenance needs both bounds",
			site: uptime.Site{MaintenanceStart: at(-10)}, steps: downAt(0),
			want: []string{openSeemsDown, confirmedDown}, effects: []string{ask(0)}, status: downStatus},
		{name: "a recovery is notified within the cooldown when its down was",
			steps: steps(downAt(0), []step{ok(4)}),
			want:  []string{openSeemsDown, confirmedDown, recovered}, effects: []string{ask(0)}, status: runningStatus},
		{name: "cooldown suppresses a repeated down notification and so its recovery",
			steps: steps(downAt(0), []step{ok(4)}, downAt(10), []step{ok(15)}),
			want: []string{openSeemsDown, confirmedDown, recovered, openSeemsDown,
				"update http Seems Down/3>Down/4 verifier_confirmed verifier quiet:down:cooldown",
				"close http Down/4>Resolved verifier_cleared local quiet:recovery:not_notified_down"},
			effects: []string{ask(0), ask(10)}, status: runningStatus},
		{name: "a down after the cooldown is notified again",
			steps:   steps(downAt(0), []step{ok(4)}, downAt(40)),
			want:    []string{openSeemsDown, confirmedDown, recovered, openSeemsDown, confirmedDown},
			effects: []string{ask(0), ask(40)}, status: downStatus},
		{name: "a suppressed down does not restart the cooldown",
			steps: steps(downAt(0), []step{ok(4)}, downAt(10), []step{ok(15)}, downAt(30)),
			want: []string{openSeemsDown, confirmedDown, recovered, openSeemsDown,
				"update http Seems Down/3>Down/4 verifier_confirmed verifier quiet:down:cooldown",
				"close http Down/4>Resolved verifier_cleared local quiet:recovery:not_notified_down",
				openSeemsDown, confirmedDown},
			effects: []string{ask(0), ask(10), ask(30)}, status: downStatus},
		{name: "the site's cooldown overrides the policy's",
			site:    uptime.Site{AlertCooldown: 5 * time.Minute},
			steps:   steps(downAt(0), []step{ok(4)}, downAt(10)),
			want:    []string{openSeemsDown, confirmedDown, recovered, openSeemsDown, confirmedDown},
			effects: []string{ask(0), ask(10)}, status: downStatus},
		{name: "a zero cooldown disables it",
			tune:    func(p *incident.Policy) { p.AlertCooldown = 0 },
			steps:   steps(downAt(0), []step{ok(4)}, downAt(5)),
			want:    []string{openSeemsDown, confirmedDown, recovered, openSeemsDown, confirmedDown},
			effects: []string{ask(0), ask(5)}, status: downStatus},
		{name: "maintenance suppresses advisories too",
			site: window(-10, 60), steps: []step{cert(0, days(20)), handshake(1, 0x0302, 0x002f)},
			want: []string{"open tls_expiry Warning/1 opened local quiet:advisory:maintenance",
				"open tls_deprecated Warning/1 opened local quiet:advisory:maintenance"},
			status: runningStatus},
	})
}

// event.close by event id (the REST API's close): only the open event of
// that id closes; a newer event of the same identity is left alone.
func TestCloseByEventID(t *testing.T) {
	t.Parallel()
	seemsDown := ev(uptime.CheckTypeHTTP, uptime.SeveritySeemsDown, uptime.StateSeemsDown) // id 7
	degraded := ev(uptime.CheckTypeTLSExpiry, uptime.SeverityDegraded, uptime.StateDegraded)
	degraded.ID = 8
	tests := map[string]struct {
		in   incident.CloseInput
		want []string
	}{
		"the open event of that id closes": {in: incident.CloseInput{CheckType: uptime.CheckTypeHTTP, EventID: 7},
			want: []string{"close http Seems Down/3>Resolved manual_override operator"}},
		"an id without a check type finds its event": {in: incident.CloseInput{EventID: 8},
			want: []string{"close tls_expiry Degraded/2>Resolved manual_override operator notify:advisory"}},
		"an older event's id leaves the newer one open": {in: incident.CloseInput{CheckType: uptime.CheckTypeHTTP, EventID: 6}},
		"an id of another check type closes nothing":    {in: incident.CloseInput{CheckType: uptime.CheckTypeHTTP, EventID: 8}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := incident.Restore(blog, []uptime.Event{seemsDown, degraded}, at(1), time.Time{})
			next, changes, _ := incident.Decide(s, tc.in, incident.DefaultPolicy(), at(2))
			var got []string
			for _, c := range changes {
				got = append(got, summary(c))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes %q, want %q", got, tc.want)
			}
			if len(changes) == 1 && changes[0].Event.ID != tc.in.EventID {
				t.Errorf("closed event id %d, want %d", changes[0].Event.ID, tc.in.EventID)
			}
			if len(next.Open) != 2-len(changes) {
				t.Errorf("%d events open after, want %d", len(next.Open), 2-len(changes))
			}
		})
	}
}
