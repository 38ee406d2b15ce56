package veriflier_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/jetmon-mesh/jetmon/uptime"
	"github.com/jetmon-mesh/jetmon/veriflier"
)

// The fakes satisfy the veriflier's ports.
var (
	_ veriflier.Server  = (*fakeServer)(nil)
	_ veriflier.Checker = checkerFunc(nil)
)

type handler = func(ctx context.Context, spec uptime.CheckSpec) (uptime.Vote, error)

// fakeServer hands the test the veriflier's handler. Like the real server,
// ServeVerify returns only after the requests it started returned.
type fakeServer struct {
	err     error         // returned at once when set
	serving chan struct{} // closed when ServeVerify runs
	ended   chan struct{} // closed when its ctx has ended
	mu      sync.Mutex
	region  string
	raw     handler                                     // as given
	bound   func(uptime.CheckSpec) (uptime.Vote, error) // raw with ServeVerify's ctx
	calls   sync.WaitGroup
}

func newFakeServer() *fakeServer {
	return &fakeServer{serving: make(chan struct{}), ended: make(chan struct{})}
}

func (f *fakeServer) ServeVerify(ctx context.Context, region string, handle handler) error {
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	f.region, f.raw = region, handle
	f.bound = func(spec uptime.CheckSpec) (uptime.Vote, error) { return handle(ctx, spec) }
	f.mu.Unlock()
	close(f.serving)
	<-ctx.Done()
	close(f.ended)
	f.calls.Wait()
	return nil
}

type reply struct {
	vote uptime.Vote
	err  error
}

// request delivers spec like a request taken while serving and answers on
// the returned channel.
func (f *fakeServer) request(spec uptime.CheckSpec) <-chan reply {
	f.mu.Lock()
	bound := f.bound
	f.mu.Unlock()
	out := make(chan reply, 1)
	f.calls.Add(1)
	go func() {
		defer f.calls.Done()
		v, err := bound(spec)
		out <- reply{v, err}
	}()
	return out
}

type checkerFunc func(ctx context.Context, spec uptime.CheckSpec) uptime.Result

func (f checkerFunc) Check(ctx context.Context, spec uptime.CheckSpec) uptime.Result {
	return f(ctx, spec)
}

// result is a checker that answers r at once.
func result(r uptime.Result) checkerFunc {
	return func(_ context.Context, spec uptime.CheckSpec) uptime.Result {
		r.BlogID, r.URL = spec.BlogID, spec.URL
		return r
	}
}

func newVeriflier(t *testing.T, srv *fakeServer, c veriflier.Checker, shutdown time.Duration) (*veriflier.Veriflier, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	v, err := veriflier.New(veriflier.Opts{NodeID: "v-eu-1", Region: "eu", Registerer: reg,
		ShutdownTimeout: shutdown, Server: srv, Checker: c})
	if err != nil {
		t.Fatal(err)
	}
	return v, reg
}

// start runs v until the returned stop is called or the test ends; stop
// returns Run's error.
func start(t *testing.T, v *veriflier.Veriflier, srv *fakeServer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- v.Run(ctx) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of its ctx ending")
			return nil
		}
	})
	t.Cleanup(func() { _ = stop() })
	wait(t, srv.serving, "server serving")
	return stop
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing within 5s", what)
	}
	panic("unreachable")
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	ok := veriflier.Opts{NodeID: "v", Region: "eu", Registerer: prometheus.NewRegistry(),
		Server: newFakeServer(), Checker: result(uptime.Result{})}
	rows := map[string]func(o *veriflier.Opts){
		"no node id":        func(o *veriflier.Opts) { o.NodeID = "" },
		"no region":         func(o *veriflier.Opts) { o.Region = "" },
		"no registerer":     func(o *veriflier.Opts) { o.Registerer = nil },
		"no server":         func(o *veriflier.Opts) { o.Server = nil },
		"no checker":        func(o *veriflier.Opts) { o.Checker = nil },
		"negative shutdown": func(o *veriflier.Opts) { o.ShutdownTimeout = -time.Second },
	}
	for name, edit := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := ok
			o.Registerer = prometheus.NewRegistry()
			edit(&o)
			if _, err := veriflier.New(o); err == nil {
				t.Error("New: want an error")
			}
		})
	}
	if _, err := veriflier.New(ok); err != nil {
		t.Fatalf("valid opts: %v", err)
	}
	if _, err := veriflier.New(ok); err == nil {
		t.Error("second New on one registry: want a registration error")
	}
}

// TestVotes: each request is checked once and answered with a vote of this
// node and region, Up exactly when the result is not a failure.
func TestVotes(t *testing.T) {
	t.Parallel()
	checkedAt := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	rows := map[string]struct {
		result uptime.Result
		wantUp bool
	}{
		"success is up":                {uptime.Result{Success: true, HTTPCode: 200}, true},
		"server error is down":         {uptime.Result{HTTPCode: 500}, false},
		"connect failure is down":      {uptime.Result{ErrorCode: uptime.ErrorConnect}, false},
		"keyword failure is down":      {uptime.Result{Success: true, HTTPCode: 200, ErrorCode: uptime.ErrorKeyword}, false},
		"deprecated TLS is still up":   {uptime.Result{Success: true, HTTPCode: 200, ErrorCode: uptime.ErrorTLSDeprecated}, true},
		"expired certificate is down":  {uptime.Result{HTTPCode: 200, ErrorCode: uptime.ErrorTLSExpired}, false},
		"timeout with timings is down": {uptime.Result{ErrorCode: uptime.ErrorTimeout, DNS: 3 * time.Millisecond}, false},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := row.result
			res.RTT, res.TCP, res.TLS, res.TTFB, res.CheckedAt = 90*time.Millisecond, 10*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond, checkedAt
			srv := newFakeServer()
			calls := 0
			v, reg := newVeriflier(t, srv, checkerFunc(func(ctx context.Context, spec uptime.CheckSpec) uptime.Result {
				calls++
				return result(res)(ctx, spec)
			}), 0)
			start(t, v, srv)
			if srv.region != "eu" {
				t.Errorf("served region %q, want eu", srv.region)
			}
			got := wait(t, srv.request(uptime.CheckSpec{BlogID: 42, URL: "https://a.example/"}), "vote")
			if got.err != nil {
				t.Fatal(got.err)
			}
			want := uptime.Vote{Region: "eu", NodeID: "v-eu-1", Up: row.wantUp, HTTPCode: res.HTTPCode, ErrorCode: res.ErrorCode,
				RTT: res.RTT, DNS: res.DNS, TCP: res.TCP, TLS: res.TLS, TTFB: res.TTFB, CheckedAt: checkedAt}
			if got.vote != want || calls != 1 {
				t.Errorf("vote %+v after %d checks, want %+v after 1", got.vote, calls, want)
			}
			up, down := 0, 1
			if row.wantUp {
				up, down = 1, 0
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(requestsTotal(up, down)), "jetmon_veriflier_requests_total"); err != nil {
				t.Error(err)
			}
			if n := checkCount(t, reg); n != 1 {
				t.Errorf("check_seconds counted %d checks, want 1", n)
			}
		})
	}
}

// TestRunDrains: a check running when ctx ends finishes and its vote is
// sent; Run returns after it, and running reads 0.
func TestRunDrains(t *testing.T) {
	t.Parallel()
	srv := newFakeServer()
	entered, release := make(chan struct{}), make(chan struct{})
	v, reg := newVeriflier(t, srv, checkerFunc(func(ctx context.Context, _ uptime.CheckSpec) uptime.Result {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
			return uptime.Result{ErrorCode: uptime.ErrorTimeout}
		}
		return uptime.Result{Success: true, HTTPCode: 200, CheckedAt: time.Now()}
	}), 10*time.Second)
	stop := start(t, v, srv)
	if got := gaugeValue(t, reg, "jetmon_veriflier_running"); got != 1 {
		t.Errorf("running = %v while running", got)
	}
	pending := srv.request(uptime.CheckSpec{BlogID: 7, URL: "https://a.example/"})
	wait(t, entered, "check started")
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	wait(t, srv.ended, "serving ended")
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) while a check was running", err)
	case got := <-pending:
		t.Fatalf("vote %+v before the check ended", got)
	default:
	}
	close(release)
	got := wait(t, pending, "vote of the drained check")
	if got.err != nil || !got.vote.Up {
		t.Errorf("drained check: %+v, %v; want an up vote", got.vote, got.err)
	}
	if err := wait(t, stopped, "Run returned"); err != nil {
		t.Errorf("Run: %v", err)
	}
	if got := gaugeValue(t, reg, "jetmon_veriflier_running"); got != 0 {
		t.Errorf("running = %v after Run", got)
	}
}

// TestRunCutsChecksAtShutdownDeadline: a check still running
// ShutdownTimeout after ctx ended is cancelled and answers no vote.
func TestRunCutsChecksAtShutdownDeadline(t *testing.T) {
	t.Parallel()
	srv := newFakeServer()
	entered := make(chan struct{})
	v, reg := newVeriflier(t, srv, checkerFunc(func(ctx context.Context, _ uptime.CheckSpec) uptime.Result {
		close(entered)
		<-ctx.Done() // a hanging site
		return uptime.Result{ErrorCode: uptime.ErrorTimeout, CheckedAt: time.Now()}
	}), 100*time.Millisecond)
	stop := start(t, v, srv)
	pending := srv.request(uptime.CheckSpec{BlogID: 7, URL: "https://hang.example/"})
	wait(t, entered, "check started")
	begun := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took := time.Since(begun); took < 100*time.Millisecond || took > 5*time.Second {
		t.Errorf("drain took %v, want about the 100ms shutdown timeout", took)
	}
	if got := wait(t, pending, "answer of the cut check"); !errors.Is(got.err, veriflier.ErrStopping) {
		t.Errorf("cut check answered %+v, %v; want ErrStopping", got.vote, got.err)
	}
	if n := checkCount(t, reg); n != 0 {
		t.Errorf("check_seconds counted %d checks, want none for a cut check", n)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(requestsTotal(0, 0)), "jetmon_veriflier_requests_total"); err != nil {
		t.Errorf("a cut check was counted as a vote: %v", err)
	}
}

// TestRunRefusesRequestsAfterStop: a request taken after serving ended is
// not checked.
func TestRunRefusesRequestsAfterStop(t *testing.T) {
	t.Parallel()
	srv := newFakeServer()
	checked := false
	v, _ := newVeriflier(t, srv, checkerFunc(func(context.Context, uptime.CheckSpec) uptime.Result {
		checked = true
		return uptime.Result{Success: true}
	}), 0)
	start(t, v, srv)
	srv.mu.Lock()
	handle := srv.raw
	srv.mu.Unlock()
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := handle(ended, uptime.CheckSpec{BlogID: 7, URL: "https://a.example/"}); !errors.Is(err, veriflier.ErrStopping) || checked {
		t.Errorf("request after stop: %v (checked %v), want ErrStopping without a check", err, checked)
	}
}

func TestRunServerError(t *testing.T) {
	t.Parallel()
	srv := newFakeServer()
	srv.err = errors.New("nats: permissions violation")
	v, _ := newVeriflier(t, srv, result(uptime.Result{}), 0)
	if err := v.Run(t.Context()); err == nil || !errors.Is(err, srv.err) {
		t.Errorf("Run = %v, want the server's error", err)
	}
	if err := v.Run(t.Context()); !errors.Is(err, veriflier.ErrAlreadyRun) {
		t.Errorf("second Run = %v, want ErrAlreadyRun", err)
	}
}

// requestsTotal is the exposition of jetmon_veriflier_requests_total.
func requestsTotal(up, down int) string {
	return fmt.Sprintf(`
# HELP jetmon_veriflier_requests_total Vote requests answered, by the vote (up or down, as !uptime.Result.IsFailure).
# TYPE jetmon_veriflier_requests_total counter
jetmon_veriflier_requests_total{outcome="down"} %d
jetmon_veriflier_requests_total{outcome="up"} %d
`, down, up)
}

// gaugeValue reads a registered gauge.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return metric(t, reg, name).GetGauge().GetValue()
}

// checkCount is jetmon_veriflier_check_seconds' sample count.
func checkCount(t *testing.T, reg *prometheus.Registry) uint64 {
	t.Helper()
	return metric(t, reg, "jetmon_veriflier_check_seconds").GetHistogram().GetSampleCount()
}

// metric finds the single series of a registered metric.
func metric(t *testing.T, reg *prometheus.Registry, name string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0]
		}
	}
	t.Fatalf("metric %s not registered with one series", name)
	return nil
}
