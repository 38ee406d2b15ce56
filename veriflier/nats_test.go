package veriflier_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
	"github.com/jetmon-mesh/jetmon/veriflier"
)

// TestVerifliersOverNATS wires verifliers of two regions as the agent does
// (package check, bus.VerifyServer, in-process NATS) and asks them about a
// healthy and a failing site of a local testsite fleet through
// bus.Verifier: one vote per region, judged by a real check.
func TestVerifliersOverNATS(t *testing.T) {
	t.Parallel()
	fleet := startFleet(t)
	if err := fleet.Set("broken", testsite.Behaviour{Kind: testsite.KindStatus, Status: 500}); err != nil {
		t.Fatal(err)
	}
	n := testenv.StartNATS(t)
	regs := map[string]*prometheus.Registry{}
	for _, region := range []string{"eu", "ap"} {
		regs[region] = startVeriflier(t, n, region)
	}
	coordinator, err := bus.NewVerifier(n.Conn(t), bus.VerifierOpts{})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(blogID int64, site string) []uptime.Vote {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		votes, err := coordinator.Verify(ctx, []string{"eu", "ap"}, blogID, uptime.CheckSpec{URL: fleet.URL(site), Timeout: 3 * time.Second})
		if err != nil {
			t.Fatalf("verify %s: %v", site, err)
		}
		return votes
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(ask(1, "healthy")) < 2 { // until both verifliers subscribed
		if time.Now().After(deadline) {
			t.Fatal("verifliers not answering within 10s")
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	rows := map[string]struct {
		site     string
		wantUp   bool
		wantCode int
	}{
		"healthy site": {"healthy", true, 200},
		"broken site":  {"broken", false, 500},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			votes := ask(42, row.site)
			if len(votes) != 2 || votes[0].Region != "eu" || votes[1].Region != "ap" {
				t.Fatalf("votes %+v, want one of eu, then one of ap", votes)
			}
			for _, v := range votes {
				if v.NodeID != "v-"+v.Region || v.Up != row.wantUp || v.HTTPCode != row.wantCode || v.CheckedAt.IsZero() {
					t.Errorf("vote %+v, want node v-%s up=%v http %d", v, v.Region, row.wantUp, row.wantCode)
				}
			}
		})
	}
	for region, reg := range regs {
		if n := checkCount(t, reg); n < 3 {
			t.Errorf("%s counted %d checks, want at least 3", region, n)
		}
	}
}

// startVeriflier runs a veriflier of region on its own connection until
// the test ends and returns its registry.
func startVeriflier(t *testing.T, n *testenv.NATS, region string) *prometheus.Registry {
	t.Helper()
	checker, err := check.New(check.Opts{Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bus.NewVerifyServer(n.Conn(t), bus.VerifyServerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	v, err := veriflier.New(veriflier.Opts{NodeID: "v-" + region, Region: region, Registerer: reg,
		ShutdownTimeout: time.Second, Server: srv, Checker: checker})
	if err != nil {
		t.Fatal(err)
	}
	background(t, v.Run)
	return reg
}

func startFleet(t *testing.T) *testsite.Fleet {
	t.Helper()
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	background(t, fleet.Run)
	if err := fleet.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	return fleet
}

// background runs f until the test ends and reports its error.
func background(t *testing.T, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("background run: %v", err)
		}
	})
}
