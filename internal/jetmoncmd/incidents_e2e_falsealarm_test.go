package jetmoncmd

import (
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// e2eVoteDelay is how long the verifliers' answers of the false-alarm site
// take (well under the check timeout, so they are successes): every result
// the prober published before it was stopped is ingested before the votes
// arrive.
const e2eVoteDelay = time.Second

// A site failing only for the prober's region closes as false_alarm: the
// prober checks from e2eProberAddr, which the site fails; the verifliers of
// b and c check from e2eVeriflierAddr and see it up.
func TestIncidentsEndToEndFalseAlarm(t *testing.T) {
	t.Parallel()
	w := newE2EWorld(t)
	const blog = 2
	w.addSite(blog, 0)
	coord := w.start(addCoordinator, "c1", "a", nil)
	prober := w.startAgents(sourceAddr(e2eProberAddr), sourceAddr(e2eVeriflierAddr))
	w.waitMesh(coord, blog, 2)
	results := w.watch(bus.SubjectResultsAll)

	w.setSite(blog, testsite.Behaviour{Kind: testsite.KindByClient, Clients: map[string]int{e2eProberAddr: 503},
		Status: http.StatusOK, Delay: e2eVoteDelay})
	w.waitStep(blog, 0, []string{"opened"})
	w.wantEvent(blog, uptime.StateSeemsDown, "")

	// The NUM_OF_CHECKS-th failure asks for the confirmation. The prober
	// dies right after publishing it, so that no later failure of its can
	// open a new Seems Down once the false alarm has closed this one.
	e2eReceive(t, results, "the prober's confirming failure", func(m *nats.Msg) bool {
		r, err := bus.DecodeResult(m.Data)
		return err == nil && r.BlogID == blog && r.IsFailure() && r.Failures >= e2eNumOfChecks
	})
	prober.kill(t)

	w.waitStep(blog, 1, []string{"opened", "false_alarm"})
	w.wantEvent(blog, uptime.StateSeemsDown, uptime.ReasonFalseAlarm)
	w.wantVotes(blog, uptime.ReasonFalseAlarm, true, "b", "c")
	w.wantFalsePositive(blog, http.StatusServiceUnavailable)
	w.wantDelivered(blog)
	if n, err := coord.metric("jetmon_verifications_total", "outcome", "false_alarm"); err != nil || n != 1 {
		t.Errorf("false alarms counted %v (%v), want 1", n, err)
	}
}
