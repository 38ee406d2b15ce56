package check

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// phase is one traced step of a request. Its duration counts only when the
// step completed: a step whose start fired but whose done never did (or
// failed) reports zero. Jetmon subtracted a zero end time from a real start
// and stored hugely negative durations.
type phase struct {
	start, end time.Time
	done       bool // the step completed without error
	failed     bool // the step's done hook reported an error
}

func (p *phase) begin(now time.Time) {
	*p = phase{start: now}
}

func (p *phase) finish(now time.Time, err error) {
	if p.start.IsZero() {
		return
	}
	p.done, p.failed = err == nil, err != nil
	p.end = now
}

func (p *phase) duration() time.Duration {
	if !p.done || p.end.Before(p.start) {
		return 0
	}
	return p.end.Sub(p.start)
}

// tracer records the phases of one check. Hooks run on transport goroutines,
// possibly after the check has returned (net/http lets a dial outlive its
// request), hence the mutex. On redirects, later hops overwrite earlier ones.
type tracer struct {
	mu                        sync.Mutex
	dns, connect, tls, waited phase
	state                     *tls.ConnectionState // of the last TLS handshake, if it succeeded
}

func (t *tracer) begin(p *phase) {
	now := time.Now()
	t.mu.Lock()
	p.begin(now)
	if p == &t.tls {
		t.state = nil
	}
	t.mu.Unlock()
}

func (t *tracer) finish(p *phase, err error) {
	now := time.Now()
	t.mu.Lock()
	p.finish(now, err)
	t.mu.Unlock()
}

// hooks is the httptrace.ClientTrace feeding t. TTFB runs from the request
// being fully written to the first response byte.
func (t *tracer) hooks() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { t.begin(&t.dns) },
		DNSDone:           func(i httptrace.DNSDoneInfo) { t.finish(&t.dns, i.Err) },
		ConnectStart:      func(string, string) { t.begin(&t.connect) },
		ConnectDone:       func(_, _ string, err error) { t.finish(&t.connect, err) },
		TLSHandshakeStart: func() { t.begin(&t.tls) },
		TLSHandshakeDone:  t.tlsDone,
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				t.begin(&t.waited)
			}
		},
		GotFirstResponseByte: func() { t.finish(&t.waited, nil) },
	}
}

func (t *tracer) tlsDone(cs tls.ConnectionState, err error) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tls.finish(now, err)
	if err == nil {
		t.state = &cs
	}
}

// tlsState is the connection state of the last TLS handshake, or nil if it
// failed or there was none. Checks that fail after a handshake (a timeout
// waiting for headers, say) still report the certificate and version.
func (t *tracer) tlsState() *tls.ConnectionState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// handshakeFailed reports whether the last TLS handshake ended in an error.
func (t *tracer) handshakeFailed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tls.failed
}

// record copies the phase durations into res; none is ever negative.
func (t *tracer) record(res *uptime.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res.DNS = t.dns.duration()
	res.TCP = t.connect.duration()
	res.TLS = t.tls.duration()
	res.TTFB = t.waited.duration()
}
