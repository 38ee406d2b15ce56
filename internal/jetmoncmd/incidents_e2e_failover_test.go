package jetmoncmd

import (
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// e2eSlowVeriflier is how long the failover site makes the verifliers wait:
// far beyond their check timeout, so each vote arrives only when its check
// times out (a down vote) and the leader can be killed in between.
const e2eSlowVeriflier = time.Minute

// A killed leader in the middle of a confirmation does not lose or
// duplicate the incident: the leader asks for the confirmation, dies before
// the votes come back, and the standby takes over the open Seems Down, asks
// again and confirms it once; the recovery closes it once.
func TestIncidentsEndToEndLeaderKilledMidConfirmation(t *testing.T) {
	t.Parallel()
	w := newE2EWorld(t)
	const blog = 4
	w.addSite(blog, 0)
	c1 := w.start(addCoordinator, "c1", "a", nil)
	w.waitLeads(c1)
	c2 := w.start(addCoordinator, "c2", "a", nil)
	w.startAgents(sourceAddr(e2eProberAddr), sourceAddr(e2eVeriflierAddr))
	w.waitMesh(c1, blog, 2)
	verifies := w.watch("jetmon.verify.>")

	// Down for everyone: at once for the prober, only after their check
	// timeout for the verifliers.
	w.setSite(blog, testsite.Behaviour{Kind: testsite.KindByClient,
		Clients: map[string]int{e2eProberAddr: http.StatusServiceUnavailable},
		Status:  http.StatusServiceUnavailable, Delay: e2eSlowVeriflier})
	w.waitStep(blog, 0, []string{"opened"})
	e2eReceive(t, verifies, "the leader's confirmation request", func(*nats.Msg) bool { return true })
	c1.kill(t) // its votes are due testCheckTimeout from now: its connection is gone by then
	killedAt := time.Now()

	w.waitLeads(c2)
	t.Logf("c2 leads %v after c1's death", time.Since(killedAt))
	w.waitStep(blog, 2, []string{"opened", "verifier_confirmed"})
	w.wantEvent(blog, uptime.StateDown, "")
	w.wantVotes(blog, uptime.ReasonVerifierConfirmed, false, "b", "c")
	if n, err := c2.metric("jetmon_verifications_total", "outcome", "confirmed"); err != nil || n != 1 {
		t.Errorf("confirmations decided by the standby: %v (%v), want 1", n, err)
	}

	w.setSite(blog, testsite.Behaviour{})
	w.waitStep(blog, 1, []string{"opened", "verifier_confirmed", "verifier_cleared"})
	w.wantEvent(blog, uptime.StateDown, uptime.ReasonVerifierCleared)
	w.wantDelivered(blog)
}
