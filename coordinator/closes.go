package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The close commands: event.close (every open event of a site, those of one
// check type, or one event by id) and site.pause / site.delete (every open
// event, and the site's row taken as inactive for pauseGrace).

// Limits of operator-supplied strings (transition source and metadata).
const (
	maxActorLen = 200
	maxNoteLen  = 1000
)

// Default notes of the site commands' transitions, when the payload has none.
const (
	notePaused  = "site paused"
	noteDeleted = "site deleted"
)

// pauseGrace is how long after a site.pause or site.delete the leader takes
// the site's row as inactive already: the caller (the API) asks the leader
// first, then deactivates the row and syncs, and until the prober drops the
// site its results are still in flight. After the grace the row decides,
// like any row: deactivated, it decides nothing; still active (the caller
// never deactivated it), the site is watched again.
const pauseGrace = time.Minute

// eventReadTimeout bounds the ingest loop's read of an event named by id.
const eventReadTimeout = 5 * time.Second

// closeReason reports whether an operator may close an event with r.
func closeReason(r uptime.Reason) bool {
	switch r {
	case uptime.ReasonManualOverride, uptime.ReasonFalseAlarm, uptime.ReasonMaintenanceSwallowed,
		uptime.ReasonSuperseded, uptime.ReasonAutoTimeout, uptime.ReasonProbeCleared, uptime.ReasonVerifierCleared:
		return true
	default:
		return false
	}
}

// closeRequest is the payload of event.close, site.pause and site.delete
// (the latter two read blog_id, note and actor only).
type closeRequest struct {
	BlogID    int64  `json:"blog_id"`
	EventID   int64  `json:"event_id"`   // 0: by check type
	CheckType string `json:"check_type"` // empty: every open event (or the event_id's)
	Reason    string `json:"reason"`     // default manual_override
	Note      string `json:"note"`
	Actor     string `json:"actor"`
}

// closeResponse is the reply of the close commands.
type closeResponse struct {
	BlogID  int64 `json:"blog_id"`
	EventID int64 `json:"event_id,omitempty"` // the event_id asked about
	Closed  int   `json:"closed"`             // events closed; 0 when none was open
	// AlreadyClosed reports that the event_id asked about had closed
	// before: an idempotent success.
	AlreadyClosed bool `json:"already_closed,omitempty"`
}

// closeCommand is a validated close command.
type closeCommand struct {
	blogID  int64
	eventID int64
	pause   bool
	input   incident.CloseInput
}

// parseCloseRequest decodes and validates the fields every close command
// shares; site.trigger reads its blog_id with it too.
func parseCloseRequest(payload []byte) (closeRequest, error) {
	var req closeRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return req, cmdErr(codeBadRequest, "payload: %v", err)
	}
	switch {
	case req.BlogID <= 0:
		return req, cmdErr(codeBadRequest, "blog_id must be > 0")
	case utf8.RuneCountInString(req.Actor) > maxActorLen, utf8.RuneCountInString(req.Note) > maxNoteLen:
		return req, cmdErr(codeBadRequest, "actor or note too long (%d, %d characters at most)",
			maxActorLen, maxNoteLen)
	}
	return req, nil
}

// operatorSource is the transitions' source of a command by actor.
func operatorSource(actor string) string {
	if actor == "" {
		return incident.SourceOperator
	}
	return incident.SourceOperator + ":" + actor
}

// parseEventClose validates an event.close payload.
func parseEventClose(payload []byte) (closeCommand, error) {
	req, err := parseCloseRequest(payload)
	if err != nil {
		return closeCommand{}, err
	}
	reason := uptime.Reason(req.Reason)
	switch {
	case req.EventID < 0:
		return closeCommand{}, cmdErr(codeBadRequest, "event_id must be > 0 when set")
	case reason != "" && !closeReason(reason):
		return closeCommand{}, cmdErr(codeBadRequest, "reason %q cannot close an event", req.Reason)
	}
	return closeCommand{blogID: req.BlogID, eventID: req.EventID, input: incident.CloseInput{
		CheckType: req.CheckType, Reason: reason, Source: operatorSource(req.Actor), Note: req.Note}}, nil
}

// siteCloseParser validates a site.pause or site.delete payload: every open
// event closes as manual_override by the actor, with the note (note when
// the payload has none), and the site's row is taken as inactive for
// pauseGrace.
func siteCloseParser(note string) func(payload []byte) (closeCommand, error) {
	return func(payload []byte) (closeCommand, error) {
		req, err := parseCloseRequest(payload)
		if err != nil {
			return closeCommand{}, err
		}
		if req.Note == "" {
			req.Note = note
		}
		return closeCommand{blogID: req.BlogID, pause: true, input: incident.CloseInput{
			Reason: uptime.ReasonManualOverride, Source: operatorSource(req.Actor), Note: req.Note}}, nil
	}
}

// closeHandler answers a close command: the ingest loop closes the events,
// the reply counts them. A blog with nothing open and no row is not_found;
// so is an event_id that does not exist or belongs to another blog.
func (c *Coordinator) closeHandler(w *termWork, done <-chan struct{},
	parse func([]byte) (closeCommand, error)) CommandHandler {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		cmd, err := parse(payload)
		if err != nil {
			return nil, err
		}
		if cmd.eventID != 0 && c.opts.Events == nil {
			return nil, cmdErr(codeUnavailable, "closing by event_id needs an event reader, and none is configured")
		}
		res, err := w.submit(ctx, done, incidentCommand{blogID: cmd.blogID, eventID: cmd.eventID,
			pause: cmd.pause, input: cmd.input})
		if err != nil {
			return nil, err
		}
		if !res.tracked && cmd.eventID == 0 {
			recs, err := c.lookup(ctx, []int64{cmd.blogID})
			if err != nil {
				return nil, err
			}
			if _, ok := recs[cmd.blogID]; !ok {
				return nil, cmdErr(codeNotFound, "blog %d: no site and no open event", cmd.blogID)
			}
		}
		return json.Marshal(closeResponse{BlogID: cmd.blogID, EventID: cmd.eventID, Closed: res.closed,
			AlreadyClosed: res.alreadyClosed})
	}
}

// closeEvent decides an event.close of one event by id in the ingest loop.
// The loop is the only writer of incident state, so what the store says
// here agrees with the term's memory: an event still open is the open event
// of its identity, and the close carries its id so that neither the state
// machine nor the store can close a newer event of that identity instead.
// It returns an error only when the term must end.
func (inc *incidents) closeEvent(ctx context.Context, cmd incidentCommand) error {
	in, _ := cmd.input.(incident.CloseInput)
	rctx, cancel := context.WithTimeout(ctx, eventReadTimeout)
	ev, found, err := inc.c.opts.Events.Event(rctx, cmd.eventID)
	cancel()
	switch {
	case err != nil:
		cmd.reply <- commandResult{err: cmdErr(codeUnavailable, "read event %d: %v", cmd.eventID, err)}
		return nil
	case !found || ev.BlogID != cmd.blogID:
		cmd.reply <- commandResult{err: cmdErr(codeNotFound, "blog %d has no event %d", cmd.blogID, cmd.eventID)}
		return nil
	case in.CheckType != "" && in.CheckType != ev.CheckType:
		cmd.reply <- commandResult{err: cmdErr(codeBadRequest, "event %d is a %s event, not %s",
			ev.ID, ev.CheckType, in.CheckType)}
		return nil
	case !ev.Open():
		cmd.reply <- commandResult{tracked: true, alreadyClosed: true}
		return nil
	}
	t, ok := inc.sites[cmd.blogID]
	mem, open := t.state.Open[ev.CheckType]
	if !ok || !open || (mem.ID != 0 && mem.ID != ev.ID) {
		err := fmt.Errorf("event %d of blog %d (%s) is open in the store, the term holds event %d (open %v): %w",
			ev.ID, ev.BlogID, ev.CheckType, mem.ID, open, ErrIncidentConflict)
		cmd.reply <- commandResult{err: cmdErr(codeUnavailable, "%v", err)}
		return err
	}
	// An event opened in this term is known by identity only: it learns
	// its id, which its changes carry from now on.
	mem.ID = ev.ID
	t.state.Open[ev.CheckType] = mem
	in.CheckType, in.EventID = ev.CheckType, ev.ID
	cmd.input = in
	return inc.decideCommand(ctx, cmd, t)
}

// notePause starts pauseGrace for cmd's site when cmd is a site.pause or
// site.delete.
func (inc *incidents) notePause(cmd incidentCommand) {
	if cmd.pause {
		inc.paused[cmd.blogID] = inc.c.opts.Now().Add(pauseGrace)
	}
}

// pausedAsInactive takes the rows of sites paused less than pauseGrace ago
// as inactive in records, and forgets older pauses.
func (inc *incidents) pausedAsInactive(records map[int64]SiteRecord, now time.Time) {
	for blog, until := range inc.paused {
		if !now.Before(until) {
			delete(inc.paused, blog)
			continue
		}
		records[blog] = SiteRecord{}
	}
}
