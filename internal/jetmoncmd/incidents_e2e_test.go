package jetmoncmd

import (
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// End-to-end incident test (issue 5 item 10): a coordinator, a prober of
// region "a" and verifliers of regions "b" and "c" (helpers in
// incidents_e2e_helpers_test.go and incidents_e2e_rows_test.go).

func TestIncidentsEndToEnd(t *testing.T) {
	t.Parallel()
	w := newE2EWorld(t)
	const blog = 1
	w.addSite(blog, 0)
	coord := w.start(addCoordinator, "c1", "a", nil)
	w.startAgents(nil, nil)
	w.waitMesh(coord, blog, 2)

	w.setSite(blog, testsite.Behaviour{Kind: testsite.KindStatus, Status: 503})
	w.waitStep(blog, 0, []string{"opened"})
	w.wantEvent(blog, uptime.StateSeemsDown, "")
	w.wantFirstFailureStart(blog)

	w.waitStep(blog, 2, []string{"opened", "verifier_confirmed"})
	w.wantEvent(blog, uptime.StateDown, "")
	w.wantConfirmedAfter(blog, e2eNumOfChecks)
	w.wantVotes(blog, uptime.ReasonVerifierConfirmed, false, "b", "c")

	w.setSite(blog, testsite.Behaviour{})
	w.waitStep(blog, 1, []string{"opened", "verifier_confirmed", "verifier_cleared"})
	w.wantEvent(blog, uptime.StateDown, uptime.ReasonVerifierCleared)
	w.wantDelivered(blog)
}
