package jetmoncmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/wpcom"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// wpcomReceiver answers 500 until healthy is called, then accepts,
// recording the accepted notifications.
type wpcomReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	healthy  bool
	accepted []map[string]any
}

func newWPCOMReceiver(t *testing.T) *wpcomReceiver {
	t.Helper()
	r := &wpcomReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.healthy || req.Header.Get("Authorization") != "Bearer wpcom-token" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		r.accepted = append(r.accepted, m)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *wpcomReceiver) recover() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.healthy = true
}

func (r *wpcomReceiver) blogs() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, m := range r.accepted {
		if id, ok := m["blog_id"].(float64); ok {
			out = append(out, int64(id))
		}
	}
	slices.Sort(out)
	return out
}

// TestDeliverWPCOMBreaker: WPCOM fails until the breaker opens (after five
// consecutive failures; notifications then wait in JetStream, deferred
// without using an attempt); WPCOM recovers, the breaker half-opens after
// its timeout and closes on the probe's success, and every notification is
// delivered exactly once: none lost.
func TestDeliverWPCOMBreaker(t *testing.T) {
	t.Parallel()
	r := newWPCOMReceiver(t)
	w := newDlvWorld(t, map[string]string{
		"WPCOM_NOTIFY_ENABLE": "true", "WPCOM_NOTIFY_URL": r.srv.URL, "AUTH_TOKEN": "wpcom-token",
		"RETRY_SCHEDULE": `["100ms","100ms","100ms","100ms","100ms","100ms"]`,
	})
	var (
		mu     sync.Mutex
		states []string
	)
	add := func(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
		t2, err := buildTransports(rt.Config, rt.Logger)
		if err != nil {
			return err
		}
		n, err := wpcom.New(wpcom.Opts{URL: rt.Config.WPCOMNotifyURL, Token: rt.Config.AuthToken.Reveal(),
			Timeout: 2 * time.Second, OpenTimeout: time.Second, Logger: rt.Logger,
			OnStateChange: func(_, to wpcom.State) {
				mu.Lock()
				defer mu.Unlock()
				states = append(states, string(to))
			}})
		if err != nil {
			return err
		}
		t2.wpcom, t2.breaker = n, func() string { return string(n.State()) }
		return wireDeliverer(ctx, rt, node, t2)
	}
	d := w.start(add, "d1", "a", nil)
	for blog := int64(1); blog <= 3; blog++ {
		w.publish(dlvTransition(20+blog, blog, uptime.ReasonVerifierConfirmed, "down"))
	}
	waitFor(t, stepBudget, "the breaker opens", func() error {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(states, "open") {
			return fmt.Errorf("breaker transitions %q", states)
		}
		return nil
	})
	r.recover()
	waitFor(t, stepBudget, "every notification settled", func() error { return w.allSettled(3) })

	if got := r.blogs(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("WPCOM accepted notifications of blogs %v, want each of 1, 2, 3 once", got)
	}
	ds, _ := w.deliveries()
	deferred := 0
	for _, x := range ds {
		if x.kind != "wpcom" || x.status != "delivered" {
			t.Errorf("delivery %+v, want a delivered wpcom notification", x)
		}
		for _, a := range w.attempts(x.id) {
			if strings.HasPrefix(a, "deferred@") {
				deferred++
			}
		}
	}
	if deferred == 0 {
		t.Error("no attempt was deferred: the breaker never held a notification back")
	}
	mu.Lock()
	got := slices.Clone(states)
	mu.Unlock()
	if !slices.Equal(got, []string{"open", "half-open", "closed"}) {
		t.Errorf("breaker transitions %q, want open, half-open, closed", got)
	}
	d.waitMetric(t, "the breaker gauge says closed", 1, "jetmon_delivery_wpcom_breaker_state", "state", "closed")
}
