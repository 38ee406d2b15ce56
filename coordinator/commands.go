package coordinator

import (
	"context"
	"fmt"
	"sync"

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
	// eventID names the one event a close is about (event.close by id);
	// the loop resolves its check type from the store.
	eventID int64
	// pause marks site.pause and site.delete: the caller deactivates the
	// row next, so results in flight must not reopen an incident.
	pause bool
	reply chan commandResult
}

// commandResult is the ingest loop's answer: tracked is false when the site
// had no incident state (nothing was open); alreadyClosed when the event a
// close named had closed before.
type commandResult struct {
	tracked       bool
	closed        int
	alreadyClosed bool
	err           error
}

// submit hands cmd to the term's ingest loop and waits for its answer.
func (w *termWork) submit(ctx context.Context, done <-chan struct{}, cmd incidentCommand) (commandResult, error) {
	cmd.reply = make(chan commandResult, 1)
	select {
	case w.commands <- cmd:
	case <-done:
		return commandResult{}, errTermOver
	case <-ctx.Done():
		return commandResult{}, fmt.Errorf("submit command: %w", ctx.Err())
	}
	select {
	case r := <-cmd.reply:
		return r, r.err
	case <-done:
		return commandResult{}, errTermOver
	case <-ctx.Done():
		return commandResult{}, fmt.Errorf("wait for command: %w", ctx.Err())
	}
}

// command decides an operator's input in the ingest loop and writes it. A
// site without state has nothing open: the answer says untracked. It
// returns an error only when the term must end.
func (inc *incidents) command(ctx context.Context, cmd incidentCommand) error {
	if cmd.eventID != 0 {
		return inc.closeEvent(ctx, cmd)
	}
	t, ok := inc.sites[cmd.blogID]
	if !ok {
		inc.notePause(cmd)
		cmd.reply <- commandResult{}
		return nil
	}
	return inc.decideCommand(ctx, cmd, t)
}

// decideCommand decides cmd for blog's memory t, writes it and answers; a
// pause starts its grace once its closes committed.
func (inc *incidents) decideCommand(ctx context.Context, cmd incidentCommand, t tracked) error {
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
	inc.notePause(cmd)
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
