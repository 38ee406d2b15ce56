package coordinator

import (
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The incident tests run a whole term (Run with a fake term) over the
// fakes: site 1 in bucket 1, checked by prober p1 of region "a".

const (
	site1        = int64(1)
	proberNode   = "p1"
	proberRegion = "a"
)

// startLeader starts a coordinator over f that leads epoch 1, with live
// verifliers in regions (none: no veriflier region at all) and prober p1.
func startLeader(t *testing.T, f *fakes, mod func(*Opts), regions ...string) (*Coordinator, func() error) {
	t.Helper()
	if _, ok := f.source.rows[site1]; !ok {
		f.source.set(site1, 1, "https://one", true, t0)
	}
	var nodes []uptime.Node
	for _, r := range regions {
		nodes = append(nodes, uptime.Node{Role: uptime.RoleVeriflier, NodeID: "v-" + r, Region: r})
	}
	f.dir.set(uptime.RoleVeriflier, nodes...)
	f.dir.set(uptime.RoleProber, prober(proberNode, proberRegion, 1))
	c := newTestCoordinator(t, f, mod)
	stop := startRun(t, c)
	f.elector.terms <- newTerm(1)
	synctest.Wait()
	return c, stop
}

// feed delivers one site's checks, a second apart, counting consecutive
// failures as a prober does.
type feed struct {
	f        *fakes
	seq      uint64
	failures int
}

// check delivers the next check of site 1 and waits until it is handled.
func (fd *feed) check(ok bool) *sentBatch {
	time.Sleep(time.Second)
	r := result(site1, ok, time.Now())
	r.Region, r.NodeID, r.Bucket = proberRegion, proberNode, 1
	if ok {
		fd.failures = 0
	} else {
		fd.failures++
	}
	r.Failures = fd.failures
	fd.seq++
	s := fd.f.results.deliver(Delivery{Seq: fd.seq, Result: r})
	synctest.Wait()
	return s
}

// reasons lists the changes' ops and reasons.
func reasons(changes []uptime.Change) []string {
	out := make([]string, len(changes))
	for i, ch := range changes {
		out[i] = string(ch.Op) + ":" + string(ch.Transition.Reason)
	}
	return out
}

func TestIncidentSeemsDownCommitsWithBatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c, stop := startLeader(t, f, nil, "b", "c")
		fd := &feed{f: f}
		sent := fd.check(false)
		commits := f.ingest.committed()
		if len(commits) != 1 || !sent.wasAcked() {
			t.Fatalf("commits = %d (acked %v), want the batch committed", len(commits), sent.wasAcked())
		}
		changes := commits[0].Incidents.Changes
		if got := reasons(changes); !slices.Equal(got, []string{"open:opened"}) {
			t.Fatalf("batch changes = %v, want the Seems Down open", got)
		}
		ev := changes[0].Event
		if ev.State != uptime.StateSeemsDown || ev.Severity != uptime.SeveritySeemsDown || ev.BlogID != site1 {
			t.Errorf("opened %+v, want Seems Down of site 1", ev)
		}
		if site := commits[0].Incidents.Sites[site1]; site.Spec.URL != "https://one" {
			t.Errorf("site snapshot %+v, want site 1's", site)
		}
		if got := testutil.ToFloat64(c.m.openEvents.WithLabelValues(string(uptime.StateSeemsDown))); got != 1 {
			t.Errorf("open Seems Down = %v, want 1", got)
		}
		if calls := f.verifier.verifyCalls(); len(calls) != 0 {
			t.Errorf("verification asked after one failure: %+v", calls)
		}
		_ = stop()
	})
}

// confirmRow is a confirmation scenario: the votes the verifliers give and
// what the third failure leads to.
type confirmRow struct {
	vote        func(string) (uptime.Vote, bool)
	want        []string // changes after the outcome, from the open on
	wantOutcome string
	wantFP      int
}

func TestIncidentConfirmation(t *testing.T) {
	t.Parallel()
	noVote := func(string) (uptime.Vote, bool) { return uptime.Vote{}, false }
	tests := map[string]confirmRow{
		"two confirming votes promote to Down": {vote: downVote,
			want: []string{"open:opened", "update:verifier_confirmed"}, wantOutcome: outcomeConfirmed},
		"disagreeing votes close as false alarm": {vote: upVote,
			want: []string{"open:opened", "close:false_alarm"}, wantOutcome: outcomeFalseAlarm, wantFP: 1},
		"no responders stay Seems Down": {vote: noVote,
			want: []string{"open:opened"}, wantOutcome: outcomeNoResponders},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { testConfirmation(t, tt) })
		})
	}
}

func testConfirmation(t *testing.T, tt confirmRow) {
	f := newFakes()
	f.verifier.setVote(tt.vote)
	c, stop := startLeader(t, f, nil, "a", "b", "c")
	defer func() { _ = stop() }()
	fd := &feed{f: f}
	for range incident.DefaultNumOfChecks {
		fd.check(false)
	}
	calls := f.verifier.verifyCalls()
	if len(calls) != 1 {
		t.Fatalf("verifications = %d after NUM_OF_CHECKS failures, want 1", len(calls))
	}
	if want := []string{"b", "c"}; !slices.Equal(calls[0].regions, want) || calls[0].blogID != site1 ||
		calls[0].spec.URL != "https://one" {
		t.Errorf("verify call %+v, want regions %v (not the prober's) for site 1", calls[0], want)
	}
	if calls[0].wait != DefaultCheckTimeout+verifyGrace {
		t.Errorf("votes awaited %v, want the site timeout + 5s", calls[0].wait)
	}
	advance(fetchWait) // the ingest loop decides the outcome
	if got := reasons(f.events.changes()); !slices.Equal(got, tt.want) {
		t.Fatalf("changes = %v, want %v", got, tt.want)
	}
	writes := f.events.committedWrites()
	last := writes[len(writes)-1]
	if got := len(last.FalsePositives); got != tt.wantFP {
		t.Errorf("false positives = %d, want %d", got, tt.wantFP)
	}
	if tt.wantOutcome != outcomeNoResponders && len(last.Votes[site1]) != 2 {
		t.Errorf("votes carried = %+v, want both regions'", last.Votes)
	}
	if got := testutil.ToFloat64(c.m.verifications.WithLabelValues(tt.wantOutcome)); got != 1 {
		t.Errorf("verifications{outcome=%s} = %v, want 1", tt.wantOutcome, got)
	}
	if tt.wantOutcome == outcomeNoResponders {
		// Asked again only after NUM_OF_CHECKS more failures.
		for i := range incident.DefaultNumOfChecks {
			if n := len(f.verifier.verifyCalls()); n != 1 {
				t.Fatalf("verifications = %d after %d more failures, want 1", n, i)
			}
			fd.check(false)
		}
		if n := len(f.verifier.verifyCalls()); n != 2 {
			t.Errorf("verifications = %d after NUM_OF_CHECKS more failures, want 2", n)
		}
	}
}

func TestIncidentDownRecovers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.verifier.setVote(downVote)
		c, stop := startLeader(t, f, nil, "b", "c")
		fd := &feed{f: f}
		for range incident.DefaultNumOfChecks {
			fd.check(false)
		}
		advance(fetchWait)
		writes := f.events.committedWrites()
		confirmed := writes[len(writes)-1]
		if len(confirmed.AlertsSent) != 1 || confirmed.Changes[0].Transition.Notify.Kind != incident.KindDown {
			t.Errorf("confirmation write %+v, want a down notification and last_alert_sent_at", confirmed)
		}
		fd.check(true)
		if got := reasons(f.events.changes()); !slices.Equal(got,
			[]string{"open:opened", "update:verifier_confirmed", "close:verifier_cleared"}) {
			t.Fatalf("changes = %v", got)
		}
		for _, st := range openStates() {
			if got := testutil.ToFloat64(c.m.openEvents.WithLabelValues(string(st))); got != 0 {
				t.Errorf("open %s = %v after recovery, want 0", st, got)
			}
		}
		for stage, want := range map[string]uint64{stageSeemsDown: 1, stageDown: 1, stageCleared: 0} {
			if got := histogramCount(t, c, stage); got != want {
				t.Errorf("detection{stage=%s} count = %d, want %d", stage, got, want)
			}
		}
		_ = stop()
	})
}

func histogramCount(t *testing.T, c *Coordinator, stage string) uint64 {
	t.Helper()
	var m dto.Metric
	obs, err := c.m.detection.GetMetricWithLabelValues(stage)
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.(interface{ Write(*dto.Metric) error }).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// Without any veriflier region, NUM_OF_CHECKS local failures confirm.
func TestIncidentLocalConfirmation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		_, stop := startLeader(t, f, nil, proberRegion) // the prober's own region only
		fd := &feed{f: f}
		for range incident.DefaultNumOfChecks {
			fd.check(false)
		}
		changes := f.events.changes()
		if got := reasons(changes); !slices.Equal(got, []string{"open:opened", "update:verifier_confirmed"}) {
			t.Fatalf("changes = %v, want a local confirmation", got)
		}
		if src := changes[1].Transition.Source; src != incident.SourceLocal {
			t.Errorf("confirmation source %q, want local", src)
		}
		if n := len(f.verifier.verifyCalls()); n != 0 {
			t.Errorf("verifications = %d, want none", n)
		}
		_ = stop()
	})
}

// A failed commit leaves the decisions out of memory (nothing asked, no
// open event counted); the retry commits the same changes.
func TestIncidentFailedCommitLeavesStateUntouched(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.verifier.setVote(downVote)
		c, stop := startLeader(t, f, nil, "b", "c")
		f.ingest.errs = []error{errBoom}
		now := time.Now()
		var ds []Delivery
		for i := range incident.DefaultNumOfChecks {
			r := result(site1, false, now.Add(time.Duration(i)*time.Second))
			r.Region, r.NodeID, r.Failures = proberRegion, proberNode, i+1
			ds = append(ds, Delivery{Seq: uint64(i + 1), Result: r})
		}
		sent := f.results.deliver(ds...)
		synctest.Wait()
		if sent.wasAcked() || len(f.ingest.committed()) != 0 {
			t.Fatal("the failed commit was acked or committed")
		}
		if n := len(f.verifier.verifyCalls()); n != 0 {
			t.Errorf("verification asked before the commit: %d calls", n)
		}
		if got := testutil.ToFloat64(c.m.openEvents.WithLabelValues(string(uptime.StateSeemsDown))); got != 0 {
			t.Errorf("open Seems Down = %v before the commit, want 0", got)
		}
		advance(time.Second) // the retry
		attempts := f.ingest.attempted()
		if len(attempts) != 2 || !sent.wasAcked() {
			t.Fatalf("attempts = %d (acked %v), want 2 and acked", len(attempts), sent.wasAcked())
		}
		if !reflect.DeepEqual(attempts[0].Incidents, attempts[1].Incidents) {
			t.Errorf("retry changed the incident write:\n%+v\n%+v", attempts[0].Incidents, attempts[1].Incidents)
		}
		if n := len(f.verifier.verifyCalls()); n != 1 {
			t.Errorf("verifications = %d after the commit, want 1", n)
		}
		_ = stop()
	})
}

// A new term rebuilds the open events; a success closes a restored Down.
func TestIncidentRestoredAtTermStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.events.open[identity(site1, uptime.CheckTypeHTTP)] = uptime.Event{ID: 7, BlogID: site1,
			CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeverityDown, State: uptime.StateDown,
			StartedAt: time.Now().Add(-time.Hour), Metadata: map[string]any{incident.MetaDownNotified: true}}
		c, stop := startLeader(t, f, nil, "b")
		if got := testutil.ToFloat64(c.m.openEvents.WithLabelValues(string(uptime.StateDown))); got != 1 {
			t.Errorf("open Down = %v after restore, want 1", got)
		}
		fd := &feed{f: f}
		fd.check(true)
		changes := f.events.changes()
		if got := reasons(changes); !slices.Equal(got, []string{"close:verifier_cleared"}) {
			t.Fatalf("changes = %v", got)
		}
		if n := changes[0].Transition.Notify; !n.Notify || n.Kind != incident.KindRecovery {
			t.Errorf("recovery notification %+v, want sent (the down was)", n)
		}
		_ = stop()
	})
}
