package incident

import (
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// MetaVotes is the transition metadata key of the vote list on
// verifier_confirmed and false_alarm: one map per vote with region, node_id,
// up, http_code, error_code, rtt_ms, dns_ms, tcp_ms, tls_ms, ttfb_ms and
// checked_at.
const MetaVotes = "votes"

// tally counts a confirmation's votes.
type tally struct {
	quorum     int // min(PEER_OFFLINE_LIMIT, responders), at least 1
	responders int // votes received
	confirmed  int // votes with Up=false: the site is down from there too
	disagreed  int // votes with Up=true
}

// count tallies votes under a quorum ceiling.
func count(votes []uptime.Vote, peerOfflineLimit int) tally {
	t := tally{responders: len(votes)}
	for _, v := range votes {
		if v.Up {
			t.disagreed++
		} else {
			t.confirmed++
		}
	}
	t.quorum = max(min(peerOfflineLimit, t.responders), 1)
	return t
}

// verification applies the outcome of a confirmation request. It is ignored
// unless it answers the request in flight for the open Seems Down.
func (d *decision) verification(in VerificationInput) bool {
	c := d.s.Confirming
	ev, open := d.s.Open[uptime.CheckTypeHTTP]
	if !c.InFlight() || !c.StartedAt.Equal(in.StartedAt) || !open ||
		ev.State != uptime.StateSeemsDown || !ev.StartedAt.Equal(in.StartedAt) {
		return false
	}
	d.s.Confirming = Confirmation{}
	t := count(in.Votes, d.p.PeerOfflineLimit)
	switch {
	case t.responders == 0:
		// Stays Seems Down; asks again at AskAt, set by the request.
	case t.confirmed >= t.quorum:
		d.promote(ev, SourceVerifier, confirmMeta(in.Votes, t))
	default:
		d.closeHTTP(ev, uptime.ReasonFalseAlarm, SourceVerifier, confirmMeta(in.Votes, t))
		r := c.Result
		d.effects = append(d.effects, RecordFalsePositive{uptime.FalsePositive{BlogID: d.s.BlogID,
			HTTPCode: r.HTTPCode, ErrorCode: r.ErrorCode, RTT: r.RTT, At: d.now}})
	}
	return true
}

// confirmMeta is the metadata of verifier_confirmed and false_alarm: every
// vote and the counts.
func confirmMeta(votes []uptime.Vote, t tally) map[string]any {
	list := make([]map[string]any, 0, len(votes))
	for _, v := range votes {
		list = append(list, voteMeta(v))
	}
	return map[string]any{
		MetaVotes:             list,
		"verifier_quorum":     t.quorum,
		"verifier_responders": t.responders,
		"verifier_confirmed":  t.confirmed,
		"verifier_disagreed":  t.disagreed,
	}
}

// voteMeta is one vote as metadata.
func voteMeta(v uptime.Vote) map[string]any {
	m := map[string]any{
		"region":     v.Region,
		"node_id":    v.NodeID,
		"up":         v.Up,
		"http_code":  v.HTTPCode,
		"error_code": int(v.ErrorCode),
		"rtt_ms":     v.RTT.Milliseconds(),
		"dns_ms":     v.DNS.Milliseconds(),
		"tcp_ms":     v.TCP.Milliseconds(),
		"tls_ms":     v.TLS.Milliseconds(),
		"ttfb_ms":    v.TTFB.Milliseconds(),
	}
	if !v.CheckedAt.IsZero() {
		m["checked_at"] = v.CheckedAt.UTC().Format(time.RFC3339Nano)
	}
	return m
}
