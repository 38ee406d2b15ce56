package incident_test

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// gen produces a random but plausible input history for one site: a prober's
// results (with replays and late deliveries), verification outcomes (some
// for the request in flight, some stale), operator closes and trigger-now
// results.
type gen struct {
	rng      *rand.Rand
	clock    time.Time
	failures int
	sent     []uptime.ProbeResult
}

func (g *gen) step() step {
	g.clock = g.clock.Add(time.Duration(g.rng.IntN(600)) * time.Second)
	now := g.clock.Add(ingestDelay)
	switch k := g.rng.IntN(100); {
	case k < 60:
		return step{now: now, in: func(rn *runner) incident.Input {
			return incident.CheckInput{Result: g.result(), Site: rn.site}
		}}
	case k < 78:
		return step{now: now, in: g.verification}
	case k < 88:
		checkTypes := []string{"", uptime.CheckTypeHTTP, uptime.CheckTypeTLSExpiry, uptime.CheckTypeTLSDeprecated}
		reasons := []uptime.Reason{"", uptime.ReasonManualOverride, uptime.ReasonSuperseded}
		in := incident.CloseInput{CheckType: checkTypes[g.rng.IntN(len(checkTypes))],
			Reason: reasons[g.rng.IntN(len(reasons))], Note: "random"}
		return step{now: now, in: func(rn *runner) incident.Input { in.Site = rn.site; return in }}
	default:
		r := g.fresh(g.rng.IntN(2) == 0)
		return step{now: now, in: func(rn *runner) incident.Input {
			return incident.TriggerInput{Result: r, Site: rn.site}
		}}
	}
}

// result is a new check, or now and then a replayed or older one.
func (g *gen) result() uptime.ProbeResult {
	if len(g.sent) > 0 && g.rng.IntN(5) == 0 {
		return g.sent[g.rng.IntN(len(g.sent))]
	}
	success := g.rng.IntN(10) < 4
	if success {
		g.failures = 0
	} else {
		g.failures++
	}
	r := g.fresh(success)
	r.Failures = g.failures
	g.sent = append(g.sent, r)
	return r
}

// fresh is a result checked now, with random certificate and handshake.
func (g *gen) fresh(success bool) uptime.ProbeResult {
	r := uptime.ProbeResult{Region: "us-east"}
	r.BlogID, r.Success, r.CheckedAt, r.HTTPCode = blog, success, g.clock, 200
	if !success {
		r.HTTPCode = 500 + g.rng.IntN(4)
	}
	if g.rng.IntN(3) == 0 {
		exp := r.CheckedAt.Add(time.Duration(g.rng.IntN(40*24)-48) * time.Hour)
		r.SSLExpiry = &exp
	}
	versions := []uint16{0, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}
	r.TLSVersion = versions[g.rng.IntN(len(versions))]
	return r
}

// verification answers the request in flight, or a stale one.
func (g *gen) verification(rn *runner) incident.Input {
	startedAt := rn.asked
	if g.rng.IntN(4) == 0 && len(g.sent) > 0 {
		startedAt = g.sent[g.rng.IntN(len(g.sent))].CheckedAt
	}
	votes := make([]uptime.Vote, g.rng.IntN(5))
	for i := range votes {
		votes[i] = uptime.Vote{Region: fmt.Sprintf("r%d", i), Up: g.rng.IntN(2) == 0}
	}
	return incident.VerificationInput{StartedAt: startedAt, Votes: votes, Site: rn.site}
}

// randomPolicy and randomSite vary what the decisions depend on.
func randomPolicy(rng *rand.Rand) incident.Policy {
	return incident.Policy{NumOfChecks: 1 + rng.IntN(4), PeerOfflineLimit: 1 + rng.IntN(3),
		AlertCooldown: time.Duration(rng.IntN(3)) * 15 * time.Minute, HaveVerifiers: rng.IntN(4) > 0}
}

func randomSite(rng *rand.Rand) uptime.Site {
	if rng.IntN(3) > 0 {
		return uptime.Site{}
	}
	start := t0.Add(time.Duration(rng.IntN(600)) * time.Minute)
	return uptime.Site{MaintenanceStart: start, MaintenanceEnd: start.Add(time.Duration(rng.IntN(300)) * time.Minute)}
}

// checkSequence runs n random steps; the runner checks after every decision
// that the input state was not modified, that every change is one
// transition whose before values follow from replaying the earlier ones,
// that closed events never change and that the replayed open events equal
// the state's. The rest is checked here.
func checkSequence(t *testing.T, seed uint64, n int) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := randomPolicy(rng)
	rn := newRunner(t, p, randomSite(rng))
	g := &gen{rng: rng, clock: t0}
	for range n {
		from := len(rn.changes)
		rn.run(g.step())
		for _, c := range rn.changes[from:] {
			if err := notificationFits(c); err != nil {
				t.Fatalf("seed %d: %s: %v", seed, summary(c), err)
			}
		}
		if err := stateFits(rn.s, p); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	for _, e := range rn.effects {
		if _, isReq := e.(incident.RequestVerification); isReq && !p.HaveVerifiers {
			t.Fatalf("seed %d: asked verifliers with none configured", seed)
		}
	}
}

// notificationFits checks a transition's notification against its kind.
func notificationFits(c uptime.Change) error {
	n, tr := c.Transition.Notify, c.Transition
	advisory := c.Event.CheckType != uptime.CheckTypeHTTP
	switch {
	case n.Notify && n.Suppressed != "":
		return fmt.Errorf("notified and suppressed (%s)", n.Suppressed)
	case n.Kind == incident.KindDown && tr.Reason != uptime.ReasonVerifierConfirmed:
		return fmt.Errorf("down notification on %s", tr.Reason)
	case n.Kind == incident.KindRecovery && (c.Op != uptime.OpClose || tr.StateBefore != uptime.StateDown):
		return fmt.Errorf("recovery notification on %s from %s", c.Op, tr.StateBefore)
	case (n.Kind == incident.KindAdvisory) != advisory:
		return fmt.Errorf("kind %q on a %s transition", n.Kind, c.Event.CheckType)
	case !advisory && n.Kind == "" && (n.Notify || n.Suppressed != ""):
		return fmt.Errorf("a Seems Down transition with a notification %+v", n)
	}
	return nil
}

// stateFits checks the state's own invariants.
func stateFits(s incident.SiteState, p incident.Policy) error {
	for ct, ev := range s.Open {
		switch {
		case ct == uptime.CheckTypeHTTP && ev.State != uptime.StateSeemsDown && ev.State != uptime.StateDown:
			return fmt.Errorf("HTTP event in %s", ev.State)
		case ct != uptime.CheckTypeHTTP && ev.Severity != uptime.SeverityWarning && ev.Severity != uptime.SeverityDegraded:
			return fmt.Errorf("advisory %s at severity %d", ct, ev.Severity)
		}
	}
	httpEv, open := s.Open[uptime.CheckTypeHTTP]
	if s.Confirming.InFlight() && (!open || httpEv.State != uptime.StateSeemsDown ||
		!httpEv.StartedAt.Equal(s.Confirming.StartedAt) || !p.HaveVerifiers) {
		return fmt.Errorf("confirmation in flight for %v without its Seems Down (%+v)", s.Confirming.StartedAt, httpEv)
	}
	want := uptime.LegacySiteRunning
	if open {
		want = map[uptime.State]uptime.LegacyStatus{uptime.StateSeemsDown: uptime.LegacySiteDown,
			uptime.StateDown: uptime.LegacySiteConfirmedDown}[httpEv.State]
	}
	if got := incident.Projection(s.Open); got != want {
		return fmt.Errorf("projection %d with HTTP %+v, want %d", got, httpEv, want)
	}
	return nil
}

func TestRandomSequences(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			checkSequence(t, seed, 200)
		})
	}
}

func FuzzSequences(f *testing.F) {
	for _, seed := range []uint64{0, 1, 42, 1 << 40} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkSequence(t, seed, 100) })
}
