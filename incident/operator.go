package incident

import (
	"maps"
	"slices"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// operatorClose closes one open event, or all of them, on an operator's
// command; with an EventID, only the open event of that id. Closing what is
// not open is an idempotent success: no changes.
func (d *decision) operatorClose(in CloseInput) bool {
	reason := in.Reason
	if reason == "" {
		reason = uptime.ReasonManualOverride
	}
	source := in.Source
	if source == "" {
		source = SourceOperator
	}
	types := []string{in.CheckType}
	if in.CheckType == "" {
		types = slices.Sorted(maps.Keys(d.s.Open))
	}
	for _, ct := range types {
		ev, open := d.s.Open[ct]
		if !open || (in.EventID != 0 && ev.ID != in.EventID) {
			continue
		}
		meta := map[string]any{}
		if in.Note != "" {
			meta["note"] = in.Note
		}
		d.closeAny(ev, reason, source, meta)
	}
	return len(d.changes) > 0
}

// trigger applies an operator-requested check: a success closes every open
// event with probe_cleared; a failure changes nothing and is not recorded as
// the newest result (it decides nothing).
func (d *decision) trigger(in TriggerInput) bool {
	r := in.Result
	if r.IsFailure() || !d.accept(r) {
		return false
	}
	source := in.Source
	if source == "" {
		source = SourceOperator
	}
	d.s.AskAt = 0
	for _, ct := range slices.Sorted(maps.Keys(d.s.Open)) {
		d.closeAny(d.s.Open[ct], uptime.ReasonProbeCleared, source, resultMeta(r))
	}
	return true
}

// closeAny closes an open event of any check type with the notification its
// kind needs.
func (d *decision) closeAny(ev uptime.Event, reason uptime.Reason, source string, meta map[string]any) {
	if ev.CheckType == uptime.CheckTypeHTTP {
		d.closeHTTP(ev, reason, source, meta)
		return
	}
	d.close(ev, reason, source, meta, d.advisoryNotification())
}
