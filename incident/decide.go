package incident

import (
	"maps"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Sources of transitions decided here (operators pass their own).
const (
	SourceLocal    = "local"    // the probing region's own checks
	SourceVerifier = "verifier" // the verifliers' votes
	SourceOperator = "operator" // an operator command that named no actor
)

// Decide applies one input to a site's state. It returns the new state, the
// changes to write in order (each exactly one transition, carrying its
// notification decision) and the effects to carry out once they are
// committed. An ignored input (a replayed or out-of-order result, an outcome
// for an event no longer open, a close with nothing to close, another
// blog's input, a nil input) returns s itself and nothing else; s is never
// modified. now is the decision time: every transition's ChangedAt, and the
// time maintenance windows and cooldowns are judged at.
func Decide(s SiteState, in Input, p Policy, now time.Time) (SiteState, []uptime.Change, []Effect) {
	blog, site := inputBlog(in)
	if s.BlogID != 0 && blog != 0 && blog != s.BlogID {
		return s, nil, nil
	}
	d := &decision{s: s.clone(), p: p.withDefaults(), now: now, site: site}
	if d.s.BlogID == 0 {
		d.s.BlogID = blog
	}
	var applied bool
	switch in := in.(type) {
	case CheckInput:
		applied = d.check(in.Result)
	case VerificationInput:
		applied = d.verification(in)
	case CloseInput:
		applied = d.operatorClose(in)
	case TriggerInput:
		applied = d.trigger(in)
	}
	if !applied || d.s.BlogID == 0 {
		return s, nil, nil
	}
	return d.s, d.changes, d.effects
}

// inputBlog is the blog an input is about (0 when it names none) and the
// site it comes with.
func inputBlog(in Input) (int64, uptime.Site) {
	switch in := in.(type) {
	case CheckInput:
		return in.Result.BlogID, in.Site
	case TriggerInput:
		return in.Result.BlogID, in.Site
	case VerificationInput:
		return in.Site.BlogID, in.Site
	case CloseInput:
		return in.Site.BlogID, in.Site
	default:
		return 0, uptime.Site{}
	}
}

// decision is the work of one Decide call.
type decision struct {
	s       SiteState
	p       Policy
	now     time.Time
	site    uptime.Site
	changes []uptime.Change
	effects []Effect
}

// accept reports whether a result is newer than every result accepted
// before, and records it as the newest.
func (d *decision) accept(r uptime.ProbeResult) bool {
	if r.CheckedAt.IsZero() || !r.CheckedAt.After(d.s.LastCheckedAt) {
		return false
	}
	d.s.LastCheckedAt = r.CheckedAt
	return true
}

// check applies a prober's result: HTTP state, then the advisories.
func (d *decision) check(r uptime.ProbeResult) bool {
	if !d.accept(r) {
		return false
	}
	d.http(r)
	d.tlsExpiry(r)
	d.tlsDeprecated(r)
	return true
}

// newEvent is a new open event of the site.
func (d *decision) newEvent(checkType string, sev uptime.Severity, state uptime.State,
	startedAt time.Time, meta map[string]any) uptime.Event {
	return uptime.Event{BlogID: d.s.BlogID, CheckType: checkType, Severity: sev, State: state,
		StartedAt: startedAt, Metadata: meta}
}

// transition is the history row of a change to ev, before its values move.
func (d *decision) transition(ev uptime.Event, reason uptime.Reason, source string,
	meta map[string]any, n uptime.Notification) uptime.Transition {
	return uptime.Transition{EventID: ev.ID, BlogID: ev.BlogID, CheckType: ev.CheckType,
		Reason: reason, Source: source, Metadata: meta, ChangedAt: d.now, Notify: n}
}

// open records a new open event and its opened transition.
func (d *decision) open(ev uptime.Event, source string, n uptime.Notification) {
	tr := d.transition(ev, uptime.ReasonOpened, source, maps.Clone(ev.Metadata), n)
	tr.SeverityAfter, tr.StateAfter = ptr(ev.Severity), ev.State
	d.s.Open[ev.CheckType] = ev
	d.changes = append(d.changes, uptime.Change{Op: uptime.OpOpen, Event: ev, Transition: tr})
}

// update moves the open event before to after (same identity and
// started_at; severity, state and metadata may change).
func (d *decision) update(before, after uptime.Event, reason uptime.Reason, source string,
	meta map[string]any, n uptime.Notification) {
	tr := d.transition(after, reason, source, meta, n)
	tr.SeverityBefore, tr.StateBefore = ptr(before.Severity), before.State
	tr.SeverityAfter, tr.StateAfter = ptr(after.Severity), after.State
	d.s.Open[after.CheckType] = after
	d.changes = append(d.changes, uptime.Change{Op: uptime.OpUpdate, Event: after, Transition: tr})
}

// close ends the open event ev.
func (d *decision) close(ev uptime.Event, reason uptime.Reason, source string,
	meta map[string]any, n uptime.Notification) {
	tr := d.transition(ev, reason, source, meta, n)
	tr.SeverityBefore, tr.StateBefore = ptr(ev.Severity), ev.State
	tr.StateAfter = uptime.StateResolved
	ev.EndedAt, ev.ResolutionReason = d.now, reason
	delete(d.s.Open, ev.CheckType)
	d.changes = append(d.changes, uptime.Change{Op: uptime.OpClose, Event: ev, Transition: tr})
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
