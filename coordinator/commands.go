package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Incident command verbs (bus.Verb*).
const (
	verbEventClose  = "event.close"
	verbSiteTrigger = "site.trigger"
	verbSitePause   = "site.pause"
	verbSiteDelete  = "site.delete"
)

// Reply error codes of the command envelope (bus.Code*).
const (
	codeBadRequest  = "bad_request"
	codeNotFound    = "not_found"
	codeUnavailable = "unavailable"
)

// Limits of operator-supplied strings (transition source and metadata).
const (
	maxActorLen = 200
	maxNoteLen  = 1000
)

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

// commandError is a command failure with its reply code: the command server
// reads Code.
type commandError struct{ code, msg string }

func (e *commandError) Error() string { return e.code + ": " + e.msg }

// Code is the reply's error code.
func (e *commandError) Code() string { return e.code }

func cmdErr(code, format string, args ...any) error {
	return &commandError{code: code, msg: fmt.Sprintf(format, args...)}
}

// incidentCommand is an operator's input for the ingest loop to decide.
type incidentCommand struct {
	blogID int64
	input  incident.Input // CloseInput or TriggerInput; the loop sets the site
	site   *uptime.Site   // fresher site configuration, when the handler read it
	reply  chan commandResult
}

// commandResult is the ingest loop's answer: tracked is false when the site
// had no incident state (nothing was open).
type commandResult struct {
	tracked bool
	closed  int
	err     error
}

// submit hands cmd to the term's ingest loop and waits for its answer.
func (w *termWork) submit(ctx context.Context, done <-chan struct{}, cmd incidentCommand) (commandResult, error) {
	cmd.reply = make(chan commandResult, 1)
	select {
	case w.commands <- cmd:
	case <-done:
		return commandResult{}, cmdErr(codeUnavailable, "not leading")
	case <-ctx.Done():
		return commandResult{}, fmt.Errorf("submit command: %w", ctx.Err())
	}
	select {
	case r := <-cmd.reply:
		return r, r.err
	case <-done:
		return commandResult{}, cmdErr(codeUnavailable, "not leading")
	case <-ctx.Done():
		return commandResult{}, fmt.Errorf("wait for command: %w", ctx.Err())
	}
}

// command decides an operator's input in the ingest loop and writes it. A
// site without state has nothing open: the answer says untracked.
func (inc *incidents) command(ctx context.Context, cmd incidentCommand) error {
	t, ok := inc.sites[cmd.blogID]
	if !ok {
		cmd.reply <- commandResult{}
		return nil
	}
	if cmd.site != nil {
		t.site, t.fetched = *cmd.site, inc.c.opts.Now()
	}
	d := newDecided(inc.c.opts.Now())
	inc.decide(d, cmd.blogID, t, withSite(cmd.input, t.site))
	if err := inc.apply(ctx, d); err != nil {
		cmd.reply <- commandResult{err: cmdErr(codeUnavailable, "write: %v", err)}
		return err
	}
	closed := 0
	for _, ch := range d.write.Changes {
		if ch.Op == uptime.OpClose {
			closed++
		}
	}
	cmd.reply <- commandResult{tracked: true, closed: closed}
	return nil
}

// withSite returns in with its site set.
func withSite(in incident.Input, site uptime.Site) incident.Input {
	switch in := in.(type) {
	case incident.CloseInput:
		in.Site = site
		return in
	case incident.TriggerInput:
		in.Site = site
		return in
	default:
		return in
	}
}

// closeRequest is the payload of event.close, site.pause and site.delete
// (the latter two read blog_id only).
type closeRequest struct {
	BlogID    int64  `json:"blog_id"`
	CheckType string `json:"check_type"` // empty: every open event
	Reason    string `json:"reason"`     // default manual_override
	Note      string `json:"note"`
	Actor     string `json:"actor"`
}

// closeResponse is the reply of the close commands.
type closeResponse struct {
	BlogID int64 `json:"blog_id"`
	Closed int   `json:"closed"` // events closed; 0 when none was open
}

// parseEventClose validates an event.close payload.
func parseEventClose(payload []byte) (int64, incident.CloseInput, error) {
	var req closeRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return 0, incident.CloseInput{}, cmdErr(codeBadRequest, "payload: %v", err)
	}
	reason := uptime.Reason(req.Reason)
	switch {
	case req.BlogID <= 0:
		return 0, incident.CloseInput{}, cmdErr(codeBadRequest, "blog_id must be > 0")
	case reason != "" && !closeReason(reason):
		return 0, incident.CloseInput{}, cmdErr(codeBadRequest, "reason %q cannot close an event", req.Reason)
	case utf8.RuneCountInString(req.Actor) > maxActorLen, utf8.RuneCountInString(req.Note) > maxNoteLen:
		return 0, incident.CloseInput{}, cmdErr(codeBadRequest, "actor or note too long (%d, %d characters at most)",
			maxActorLen, maxNoteLen)
	}
	source := incident.SourceOperator
	if req.Actor != "" {
		source += ":" + req.Actor
	}
	return req.BlogID, incident.CloseInput{CheckType: req.CheckType, Reason: reason, Source: source, Note: req.Note}, nil
}

// parseSiteClose validates a site.pause or site.delete payload: every open
// event closes as manual_override by the operator.
func parseSiteClose(payload []byte) (int64, incident.CloseInput, error) {
	var req closeRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return 0, incident.CloseInput{}, cmdErr(codeBadRequest, "payload: %v", err)
	}
	if req.BlogID <= 0 {
		return 0, incident.CloseInput{}, cmdErr(codeBadRequest, "blog_id must be > 0")
	}
	return req.BlogID, incident.CloseInput{Reason: uptime.ReasonManualOverride, Source: incident.SourceOperator}, nil
}

// closeHandler answers a close command: the ingest loop closes the events,
// the reply counts them. A blog with nothing open and no row is not_found.
func (c *Coordinator) closeHandler(w *termWork, done <-chan struct{},
	parse func([]byte) (int64, incident.CloseInput, error)) CommandHandler {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		blog, in, err := parse(payload)
		if err != nil {
			return nil, err
		}
		res, err := w.submit(ctx, done, incidentCommand{blogID: blog, input: in})
		if err != nil {
			return nil, err
		}
		if !res.tracked {
			recs, err := c.lookup(ctx, []int64{blog})
			if err != nil {
				return nil, err
			}
			if _, ok := recs[blog]; !ok {
				return nil, cmdErr(codeNotFound, "blog %d: no site and no open event", blog)
			}
		}
		return json.Marshal(closeResponse{BlogID: blog, Closed: res.closed})
	}
}

// assignView is the assignments a term wrote, for routing site.trigger to
// the owner of a site's bucket.
type assignView struct {
	mu     sync.Mutex
	stored map[string]uptime.Assignment
}

// set replaces the view with a copy of stored.
func (v *assignView) set(stored map[string]uptime.Assignment) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stored = make(map[string]uptime.Assignment, len(stored))
	for id, a := range stored {
		v.stored[id] = a
	}
}

// owner is the assignment that owns bucket.
func (v *assignView) owner(bucket int) (uptime.Assignment, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, a := range v.stored {
		if a.Owns(bucket) {
			return a, true
		}
	}
	return uptime.Assignment{}, false
}
