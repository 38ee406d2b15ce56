package jetmoncmd

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// A certificate expiring in 5 days opens a Degraded tls_expiry advisory and
// never downtime: the checks succeed, no HTTP event opens, the projection
// stays running and no confirmation is asked.
func TestIncidentsEndToEndTLSExpiry(t *testing.T) {
	t.Parallel()
	w := newE2EWorld(t)
	const blog = 3
	site := w.fleet.TLSURL(siteName(blog), testsite.TLSExpiringSoon)
	w.addActiveSite(blog, 0, site, 0)
	trust := map[string]string{"CA_BUNDLE": w.fleet.CAFile()}
	coord := w.start(addCoordinator, "c1", "a", nil)
	w.startAgents(trust, trust)
	verifies := w.watch("jetmon.verify.>")
	w.waitMesh(coord, blog, 2)

	// Two more checks after the one that opened the advisory (they commit
	// together): they change nothing.
	var before int // checks committed while no transition was seen
	waitFor(t, stepBudget, "the advisory opened and two more checks", func() error {
		n, err := w.checks(blog)
		if err != nil {
			return err
		}
		trs, err := w.transitions(blog)
		if err != nil {
			return err
		}
		if len(trs) == 0 {
			before = n
			return fmt.Errorf("no transition yet after %d checks", n)
		}
		if n < before+3 {
			return fmt.Errorf("%d checks, the advisory opened at the %d-th or later", n, before+1)
		}
		return nil
	})

	evs := w.events(blog)
	if len(evs) != 1 || evs[0].checkType != uptime.CheckTypeTLSExpiry || evs[0].severity != int(uptime.SeverityDegraded) ||
		evs[0].state != string(uptime.StateDegraded) || evs[0].ended {
		t.Fatalf("events %+v, want one open Degraded tls_expiry advisory", evs)
	}
	var meta struct {
		DaysUntil int    `json:"days_until"`
		ExpiresAt string `json:"expires_at"`
	}
	if err := json.Unmarshal(evs[0].metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if want := certExpiry(t, w, site); meta.DaysUntil != 5 || meta.ExpiresAt != want.UTC().Format(time.RFC3339) {
		t.Errorf("advisory metadata %+v, want 5 days until %v", meta, want)
	}
	trs, err := w.transitions(blog)
	if err != nil {
		t.Fatal(err)
	}
	want := e2eRow{"", string(uptime.StateDegraded), -1, int64(uptime.SeverityDegraded), "local"}
	if len(trs) != 1 || trs[0].reason != string(uptime.ReasonOpened) || rowOf(trs[0]) != want {
		t.Errorf("transitions %+v, want one opened row %+v", trs, want)
	}
	if got := w.siteStatus(blog); got != 1 {
		t.Errorf("site_status = %d, want 1: advisories are never projected", got)
	}
	if len(verifies) != 0 {
		t.Errorf("%d verification requests, want none: advisories are never confirmed", len(verifies))
	}
	if n, err := coord.metric("jetmon_verifications_total"); err != nil || n != 0 {
		t.Errorf("verifications %v (%v), want none", n, err)
	}
	w.wantDelivered(blog)
}

// certExpiry is the NotAfter of the certificate served at site.
func certExpiry(t *testing.T, w *e2eWorld, site string) time.Time {
	t.Helper()
	u, err := url.Parse(site)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: w.fleet.CAPool(), MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0].NotAfter
}
