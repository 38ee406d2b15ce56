package coordinator

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mod  func(*Opts)
		want string // error substring; "" for success
	}{
		"complete":          {mod: func(*Opts) {}},
		"no node id":        {mod: func(o *Opts) { o.NodeID = "" }, want: "node id is required"},
		"no registerer":     {mod: func(o *Opts) { o.Registerer = nil }, want: "registerer is required"},
		"no elector":        {mod: func(o *Opts) { o.Elector = nil }, want: "elector is required"},
		"no fence":          {mod: func(o *Opts) { o.Fence = nil }, want: "fence is required"},
		"no directory":      {mod: func(o *Opts) { o.Directory = nil }, want: "directory is required"},
		"no assignments":    {mod: func(o *Opts) { o.Assignments = nil }, want: "assignments is required"},
		"no site mirror":    {mod: func(o *Opts) { o.SiteMirror = nil }, want: "site mirror is required"},
		"no site source":    {mod: func(o *Opts) { o.SiteSource = nil }, want: "site source is required"},
		"no results":        {mod: func(o *Opts) { o.Results = nil }, want: "results is required"},
		"no ingest store":   {mod: func(o *Opts) { o.Ingest = nil }, want: "ingest store is required"},
		"no commands":       {mod: func(o *Opts) { o.Commands = nil }, want: "command server is required"},
		"range reversed":    {mod: func(o *Opts) { o.RolloutRange = uptime.BucketRange{Min: 5, Max: 4} }, want: "rollout range 5..4"},
		"range negative":    {mod: func(o *Opts) { o.RolloutRange = uptime.BucketRange{Min: -1, Max: 4} }, want: "rollout range -1..4"},
		"negative duration": {mod: func(o *Opts) { o.SiteFullSync = -time.Second }, want: "durations must not be negative"},
		"negative batch":    {mod: func(o *Opts) { o.IngestBatch = -1 }, want: "ingest batch and verify workers must not be negative"},
		"negative workers":  {mod: func(o *Opts) { o.VerifyWorkers = -1 }, want: "ingest batch and verify workers must not be negative"},
		"no verifier":       {mod: func(o *Opts) { o.Verifier = nil }, want: "verifier is required"},
		"no incident store": {mod: func(o *Opts) { o.Incidents = nil }, want: "incident store is required"},
		"no outbox":         {mod: func(o *Opts) { o.Outbox = nil }, want: "outbox is required"},
		"no publisher":      {mod: func(o *Opts) { o.Publisher = nil }, want: "transition publisher is required"},
		"no prober":         {mod: func(o *Opts) { o.Prober = nil }, want: "prober client is required"},
		"no drift counter":  {mod: func(o *Opts) { o.Drift = nil }, want: "drift counter is required"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakes()
			opts := Opts{
				NodeID: "c1", Registerer: prometheus.NewPedanticRegistry(),
				Elector: f.elector, Fence: f.fence, Directory: f.dir, Assignments: f.assign,
				SiteMirror: f.mirror, SiteSource: f.source, Results: f.results, Ingest: f.ingest,
				Commands: f.commands, RolloutRange: testRange,
				Verifier: f.verifier, Incidents: f.incidents, Outbox: fakeOutbox{f.events}, Publisher: f.publisher,
				Prober: f.prober, Drift: f.drift,
			}
			tt.mod(&opts)
			c, err := New(opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want == "":
				if c.opts.IngestBatch != DefaultIngestBatch || c.opts.SiteFullSync != DefaultSiteFullSync || c.opts.CheckTimeout != DefaultCheckTimeout {
					t.Errorf("defaults not applied: %+v", c.opts)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
		})
	}
}

// startRun runs c.Run in the bubble; stop cancels it and returns Run's error.
func startRun(t *testing.T, c *Coordinator) (stop func() error) {
	t.Helper()
	return runLoop(t, c.Run)
}

func TestRunFencedTakeoverResignsAndCampaignsAgain(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.fence.raise(10) // a newer leader fenced MySQL already
		c := newTestCoordinator(t, f, nil)
		stop := startRun(t, c)

		stale := newTerm(5)
		f.elector.terms <- stale
		synctest.Wait()
		if !stale.wasResigned() {
			t.Fatal("fenced term was not resigned")
		}
		if got := testutil.ToFloat64(c.m.terms); got != 0 {
			t.Errorf("terms_total = %v after a fenced takeover, want 0", got)
		}
		if f.commands.handler(verbSiteSync) != nil {
			t.Error("a fenced term serves commands")
		}

		fresh := newTerm(11)
		f.elector.terms <- fresh // blocks until Run campaigns again
		synctest.Wait()
		if got := f.fence.current(); got != 11 {
			t.Errorf("fence epoch = %d, want 11", got)
		}
		if got := testutil.ToFloat64(c.m.leader); got != 1 {
			t.Errorf("leader = %v, want 1", got)
		}
		if got := testutil.ToFloat64(c.m.epoch); got != 11 {
			t.Errorf("epoch = %v, want 11", got)
		}
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

func TestRunRetriesTransientFenceErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.fence.errs = []error{errBoom, errBoom}
		c := newTestCoordinator(t, f, nil)
		stop := startRun(t, c)
		f.elector.terms <- newTerm(3)
		advance(time.Second) // past two backoffs
		if got := f.fence.current(); got != 3 {
			t.Errorf("fence epoch = %d, want 3", got)
		}
		if got := testutil.ToFloat64(c.m.leader); got != 1 {
			t.Errorf("leader = %v, want 1", got)
		}
		_ = stop()
	})
}

func TestRunLostTermStopsWork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, nil)
		stop := startRun(t, c)
		term := newTerm(1)
		f.elector.terms <- term
		synctest.Wait()
		if f.commands.handler(verbSiteSync) == nil {
			t.Fatal("leader does not serve site.sync")
		}

		term.lose()
		synctest.Wait()
		if f.commands.handler(verbSiteSync) != nil {
			t.Error("commands still served after the term was lost")
		}
		if got := testutil.ToFloat64(c.m.leader); got != 0 {
			t.Errorf("leader = %v after losing the term, want 0", got)
		}
		if term.wasResigned() {
			t.Error("a lost term was resigned")
		}
		if got := f.elector.campaigns.Load(); got != 2 {
			t.Errorf("campaigns = %d, want 2 (campaigning again)", got)
		}
		// No work continues: a result waits for the next leader.
		select {
		case f.results.batches <- Batch{Deliveries: []Delivery{{Seq: 1}}}:
			t.Error("a standby fetched results")
		default:
		}
		_ = stop()
	})
}

func TestRunResignsOnShutdown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, func(o *Opts) { o.ShutdownTimeout = 2 * time.Second })
		stop := startRun(t, c)
		term := newTerm(7)
		f.elector.terms <- term
		synctest.Wait()

		stoppedAt := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if !term.wasResigned() {
			t.Fatal("term not resigned on shutdown")
		}
		if dl := term.deadline.Load(); dl == nil || dl.Sub(stoppedAt) > 2*time.Second {
			t.Errorf("resign deadline %v, want within 2s of %v", dl, stoppedAt)
		}
		if got := testutil.ToFloat64(c.m.leader); got != 0 {
			t.Errorf("leader = %v after shutdown, want 0", got)
		}
	})
}

func TestRunFencedCommitEndsTerm(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c := newTestCoordinator(t, f, nil)
		stop := startRun(t, c)
		term := newTerm(4)
		f.elector.terms <- term
		synctest.Wait()

		f.fence.raise(9) // a newer leader advanced the row
		sent := f.results.deliver(Delivery{Seq: 1, Result: result(1, true, time.Now())})
		synctest.Wait()
		if sent.wasAcked() {
			t.Error("a fenced batch was acked")
		}
		if !term.wasResigned() {
			t.Error("fenced term not resigned")
		}
		if got := testutil.ToFloat64(c.m.leader); got != 0 {
			t.Errorf("leader = %v after a fenced commit, want 0", got)
		}
		if got := f.elector.campaigns.Load(); got != 2 {
			t.Errorf("campaigns = %d, want 2", got)
		}
		_ = stop()
	})
}

// A site lookup that fails delays the batch; nothing is committed or acked
// until it succeeds.
func TestIngestWaitsForSiteLookups(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.source.set(1, 1, "https://one", true, t0)
		f.source.failSites = 2
		c := newTestCoordinator(t, f, nil)
		stop := startIngest(t, f, c, 1)
		sent := f.results.deliver(Delivery{Seq: 1, Result: result(1, false, time.Now())})
		synctest.Wait()
		if sent.wasAcked() || len(f.ingest.committed()) != 0 {
			t.Fatal("committed before the sites could be read")
		}
		if sent.extends.Load() == 0 {
			t.Error("the batch's ack deadline was not extended while waiting")
		}
		advance(time.Second)
		if !sent.wasAcked() || len(f.ingest.committed()) != 1 {
			t.Fatal("batch not committed once after the lookup recovered")
		}
		if got := len(f.ingest.committed()[0].Incidents.Changes); got != 1 {
			t.Errorf("changes = %d, want the Seems Down open", got)
		}
		_ = stop()
	})
}
