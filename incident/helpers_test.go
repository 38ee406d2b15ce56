package incident_test

import (
	"crypto/tls"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

const blog = 42

// t0 is minute 0 of every scenario.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// at is minute m of a scenario.
func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// ingestDelay is how long after a check its result is decided.
const ingestDelay = 2 * time.Second

// step is one input and when it is decided; in is built when the step runs
// so a verification can answer the request the scenario made.
type step struct {
	now time.Time
	in  func(r *runner) incident.Input
}

// probe is a result checked at minute m.
func probe(m int, success bool, failures int) uptime.ProbeResult {
	r := uptime.ProbeResult{Region: "us-east", NodeID: "p1", Failures: failures}
	r.BlogID, r.URL, r.Method, r.Success, r.CheckedAt = blog, "https://example.com/", "GET", success, at(m)
	r.RTT = 120 * time.Millisecond
	r.HTTPCode = 200
	if !success {
		r.HTTPCode, r.ErrorCode = 503, uptime.ErrorNone
	}
	return r
}

// result is a check step for r.
func result(r uptime.ProbeResult) step {
	return step{now: r.CheckedAt.Add(ingestDelay), in: func(rn *runner) incident.Input {
		return incident.CheckInput{Result: r, Site: rn.site}
	}}
}

// fail is the n-th consecutive failing check, at minute m.
func fail(m, n int) step { return result(probe(m, false, n)) }

// ok is a successful check at minute m.
func ok(m int) step { return result(probe(m, true, 0)) }

// cert is a successful check at minute m whose certificate expires after
// the given time.
func cert(m int, left time.Duration) step { return withCert(probe(m, true, 0), left) }

// failCert is the n-th consecutive failure, at minute m, over TLS with a
// certificate expiring after left.
func failCert(m, n int, left time.Duration) step { return withCert(probe(m, false, n), left) }

func withCert(r uptime.ProbeResult, left time.Duration) step {
	exp := r.CheckedAt.Add(left)
	r.SSLExpiry, r.TLSVersion, r.CipherSuite = &exp, tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256
	return result(r)
}

// days is n days.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// handshake is a successful check at minute m negotiating version.
func handshake(m int, version, cipher uint16) step {
	r := probe(m, true, 0)
	r.TLSVersion, r.CipherSuite = version, cipher
	if version <= tls.VersionTLS11 {
		r.ErrorCode = uptime.ErrorTLSDeprecated
	}
	return result(r)
}

// verify answers the scenario's last confirmation request at minute m.
func verify(m int, votes ...uptime.Vote) step {
	return step{now: at(m), in: func(rn *runner) incident.Input {
		return incident.VerificationInput{StartedAt: rn.asked, Votes: votes, Site: rn.site}
	}}
}

// verifyFor answers a request about the event started at startedAt.
func verifyFor(m int, startedAt time.Time, votes ...uptime.Vote) step {
	return step{now: at(m), in: func(rn *runner) incident.Input {
		return incident.VerificationInput{StartedAt: startedAt, Votes: votes, Site: rn.site}
	}}
}

// closeCmd is an operator close at minute m.
func closeCmd(m int, in incident.CloseInput) step {
	return step{now: at(m), in: func(rn *runner) incident.Input {
		in.Site = rn.site
		return in
	}}
}

// trigger is a trigger-now check at minute m.
func trigger(m int, success bool) step {
	r := probe(m, success, 0)
	return step{now: r.CheckedAt.Add(ingestDelay), in: func(rn *runner) incident.Input {
		return incident.TriggerInput{Result: r, Site: rn.site, Source: "operator:alice"}
	}}
}

// confirm is a vote that the site is down from region too.
func confirm(region string) uptime.Vote {
	return uptime.Vote{Region: region, NodeID: region + "-v1", HTTPCode: 503, RTT: 80 * time.Millisecond}
}

// disagree is a vote that the site is up from region.
func disagree(region string) uptime.Vote {
	return uptime.Vote{Region: region, NodeID: region + "-v1", Up: true, HTTPCode: 200, RTT: 90 * time.Millisecond}
}

// runner feeds steps to Decide and keeps everything they returned.
type runner struct {
	t       testing.TB
	p       incident.Policy
	site    uptime.Site
	s       incident.SiteState
	changes []uptime.Change
	effects []incident.Effect
	asked   time.Time // StartedAt of the last RequestVerification
	model   *model
}

func newRunner(t testing.TB, p incident.Policy, site uptime.Site) *runner {
	site.BlogID = blog
	return &runner{t: t, p: p, site: site, model: newModel()}
}

// run decides every step, checking each decision's invariants.
func (rn *runner) run(steps ...step) {
	rn.t.Helper()
	for i, st := range steps {
		in := st.in(rn)
		before := deepCopy(rn.s)
		s, changes, effects := incident.Decide(rn.s, in, rn.p, st.now)
		if !reflect.DeepEqual(rn.s, before) {
			rn.t.Fatalf("step %d: Decide modified the state it was given", i)
		}
		for _, c := range changes {
			if !c.Transition.ChangedAt.Equal(st.now) {
				rn.t.Errorf("step %d: %s changed at %v, want now %v", i, summary(c), c.Transition.ChangedAt, st.now)
			}
			if err := rn.model.apply(c); err != nil {
				rn.t.Fatalf("step %d: %s: %v", i, summary(c), err)
			}
		}
		if err := rn.model.matches(s.Open); err != nil {
			rn.t.Fatalf("step %d: replaying transitions: %v", i, err)
		}
		for _, e := range effects {
			if rv, isReq := e.(incident.RequestVerification); isReq {
				rn.asked = rv.StartedAt
			}
		}
		rn.s, rn.changes, rn.effects = s, append(rn.changes, changes...), append(rn.effects, effects...)
	}
}

// summary renders a change as one line: op, check type, before>after
// (state/severity), reason, source and the notification decision.
func summary(c uptime.Change) string {
	tr := c.Transition
	states := side(tr.StateBefore, tr.SeverityBefore) + ">" + side(tr.StateAfter, tr.SeverityAfter)
	states = strings.TrimPrefix(states, ">")
	line := fmt.Sprintf("%s %s %s %s %s", c.Op, c.Event.CheckType, states, tr.Reason, tr.Source)
	switch n := tr.Notify; {
	case n.Notify:
		line += " notify:" + n.Kind
	case n.Kind != "" || n.Suppressed != "":
		line += " quiet:" + n.Kind + ":" + n.Suppressed
	}
	return line
}

func side(st uptime.State, sev *uptime.Severity) string {
	if st == "" {
		return ""
	}
	if sev == nil {
		return string(st)
	}
	return fmt.Sprintf("%s/%d", st, *sev)
}

// effectSummary renders an effect as one line.
func effectSummary(e incident.Effect) string {
	switch e := e.(type) {
	case incident.RequestVerification:
		return fmt.Sprintf("verify started=%s failures=%d", e.StartedAt.Sub(t0), e.Result.Failures)
	case incident.RecordFalsePositive:
		return fmt.Sprintf("false_positive http=%d error=%d", e.HTTPCode, e.ErrorCode)
	default:
		return fmt.Sprintf("unknown %T", e)
	}
}

// deepCopy copies a state including its map, so a later comparison detects
// any modification of the original.
func deepCopy(s incident.SiteState) incident.SiteState {
	if s.Open == nil {
		return s
	}
	open := make(map[string]uptime.Event, len(s.Open))
	for k, ev := range s.Open {
		ev.Metadata = maps.Clone(ev.Metadata)
		open[k] = ev
	}
	s.Open = open
	return s
}
