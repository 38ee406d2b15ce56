package jetmoncmd

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
)

// hookRequest is one request a receiver got.
type hookRequest struct {
	delivery   string
	event      string
	transition int64
	status     int // what the receiver answered
	validSig   bool
	at         time.Time
	occurred   time.Time // the payload's occurred_at: the transition's commit
}

// hookReceiver is an httptest webhook receiver answering from a script of
// statuses (the last repeats; empty: 200), verifying every signature.
type hookReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	statuses []int
	requests []hookRequest
	hold     chan struct{} // when set, the first request waits for it (or its client)
	held     chan struct{} // closed when the first request is being held
}

func newHookReceiver(t testing.TB, statuses ...int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) URL() string { return r.srv.URL + "/hook" }

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	hr := hookRequest{delivery: req.Header.Get(webhook.HeaderDelivery), event: req.Header.Get(webhook.HeaderEvent),
		at: time.Now()}
	hr.validSig = webhook.Verify(req.Header.Get(webhook.HeaderSignature), body, []string{dlvSecret}, 0, time.Now()) == nil
	if p, err := deliverer.ParsePayload(body); err == nil {
		hr.transition, hr.occurred = p.Transition.ID, p.OccurredAt
	}
	r.mu.Lock()
	hold := r.hold
	if hold != nil && len(r.requests) == 0 {
		r.hold = nil
	} else {
		hold = nil
	}
	hr.status = http.StatusOK
	if len(r.statuses) > 0 {
		hr.status = r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
	}
	r.requests = append(r.requests, hr)
	r.mu.Unlock()
	if hold != nil {
		close(r.held)
		select {
		case <-hold:
		case <-req.Context().Done():
			return
		}
	}
	w.WriteHeader(hr.status)
	_ = json.NewEncoder(w).Encode(map[string]int{"status": hr.status})
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func (r *hookReceiver) got() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.requests...)
}

// holdFirst makes the next first request wait until release is called.
func (r *hookReceiver) holdFirst() (held <-chan struct{}, release func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.held = make(chan struct{}), make(chan struct{})
	hold := r.hold
	return r.held, sync.OnceFunc(func() { close(hold) })
}
