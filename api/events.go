package api

import (
	"context"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

const maxDetailTransitions = 200

func (s *Server) eventListParams() []param {
	return slices.Concat(s.pageParams(s.opts.Limits.DefaultPageSize), stateParams("only events in this state"), []param{
		{name: "check_type", kind: kindString, doc: "only events of this check type"},
		{name: "check_type__in", kind: kindCSV, doc: "comma-separated check types; not with check_type"},
		{name: "started_at__gte", kind: kindTime, doc: "only events started at or after this time"},
		{name: "started_at__lt", kind: kindTime, doc: "only events started before this time"},
		{name: "active", kind: kindBool, doc: "true: open events only; false: closed only"},
	})
}

// listSiteEvents is GET /sites/{site_id}/events, newest first.
func (s *Server) listSiteEvents(r *http.Request, _ *NoBody) (List[Event], error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return List[Event]{}, err
	}
	q, p, err := s.parseEventList(r, site.BlogID)
	if err != nil {
		return List[Event]{}, err
	}
	rows, err := s.opts.Events.ListEvents(r.Context(), q)
	if err != nil {
		return List[Event]{}, storeErr(err, "")
	}
	ids := make([]int64, 0, len(rows))
	for _, ev := range rows[:min(len(rows), p.limit)] {
		ids = append(ids, ev.ID)
	}
	counts := map[int64]int{}
	if len(ids) > 0 {
		if counts, err = s.opts.Events.TransitionCounts(r.Context(), ids); err != nil {
			return List[Event]{}, storeErr(err, "")
		}
	}
	return paginate(rows, p, "events", func(ev uptime.Event) int64 { return ev.ID },
		func(ev uptime.Event) Event { return s.eventOf(ev, counts[ev.ID]) }), nil
}

func (s *Server) parseEventList(r *http.Request, blogID int64) (EventQuery, pageReq, error) {
	p, err := s.page(r, "events", s.opts.Limits.DefaultPageSize)
	if err != nil {
		return EventQuery{}, pageReq{}, err
	}
	q := EventQuery{BlogID: blogID, BeforeID: p.after, Limit: p.limit + 1}
	if q.States, err = parseStates(r, "state", codeInvalidStateFilter); err != nil {
		return EventQuery{}, pageReq{}, err
	}
	if q.CheckTypes, err = queryList(r, "check_type", codeInvalidQuery); err != nil {
		return EventQuery{}, pageReq{}, err
	}
	if q.StartedAtGTE, err = queryTime(r, "started_at__gte", codeInvalidStartedGTE); err != nil {
		return EventQuery{}, pageReq{}, err
	}
	if q.StartedAtLT, err = queryTime(r, "started_at__lt", codeInvalidStartedLT); err != nil {
		return EventQuery{}, pageReq{}, err
	}
	if q.Active, err = queryBool(r, "active", codeInvalidActive); err != nil {
		return EventQuery{}, pageReq{}, err
	}
	return q, p, nil
}

// siteEvent reads the path's event, which must belong to the path's site
// as the caller's tenant sees it.
func (s *Server) siteEvent(r *http.Request) (uptime.Event, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return uptime.Event{}, err
	}
	id, err := pathID(r, "event_id")
	if err != nil {
		return uptime.Event{}, err
	}
	ev, err := s.opts.Events.GetEvent(r.Context(), id)
	if err != nil {
		return uptime.Event{}, storeErr(err, codeEventNotFound)
	}
	if ev.BlogID != site.BlogID {
		return uptime.Event{}, errf(codeEventNotFound, "event %d does not belong to site %d", id, site.BlogID)
	}
	return ev, nil
}

// getSiteEvent is GET /sites/{site_id}/events/{event_id}.
func (s *Server) getSiteEvent(r *http.Request, _ *NoBody) (EventDetail, error) {
	ev, err := s.siteEvent(r)
	if err != nil {
		return EventDetail{}, err
	}
	return s.eventDetail(r.Context(), ev)
}

// getEvent is GET /events/{event_id}; with a tenant, the event's site must
// be visible to it.
func (s *Server) getEvent(r *http.Request, _ *NoBody) (EventDetail, error) {
	id, err := pathID(r, "event_id")
	if err != nil {
		return EventDetail{}, err
	}
	ev, err := s.opts.Events.GetEvent(r.Context(), id)
	if err != nil {
		return EventDetail{}, storeErr(err, codeEventNotFound)
	}
	if t := callOf(r).tenant; t != "" {
		if _, err := s.opts.Sites.GetSite(r.Context(), ev.BlogID, t); err != nil {
			return EventDetail{}, storeErr(err, codeEventNotFound)
		}
	}
	return s.eventDetail(r.Context(), ev)
}

// eventDetail adds the transitions and the confirmations they carry.
func (s *Server) eventDetail(ctx context.Context, ev uptime.Event) (EventDetail, error) {
	ts, err := s.opts.Events.ListTransitions(ctx, ev.ID, 0, maxDetailTransitions+1)
	if err != nil {
		return EventDetail{}, storeErr(err, "")
	}
	count, truncated := len(ts), len(ts) > maxDetailTransitions
	if truncated {
		ts = ts[:maxDetailTransitions]
		counts, err := s.opts.Events.TransitionCounts(ctx, []int64{ev.ID})
		if err != nil {
			return EventDetail{}, storeErr(err, "")
		}
		count = counts[ev.ID]
	}
	out := EventDetail{Event: s.eventOf(ev, count), Transitions: make([]Transition, 0, len(ts)),
		TransitionsTruncated: truncated, Confirmations: []Confirmation{}}
	for _, t := range ts {
		out.Transitions = append(out.Transitions, transitionOf(t))
		if c, ok := confirmationOf(t); ok {
			out.Confirmations = append(out.Confirmations, c)
		}
	}
	return out, nil
}

// listEventTransitions is GET /sites/{site_id}/events/{event_id}/transitions.
func (s *Server) listEventTransitions(r *http.Request, _ *NoBody) (List[Transition], error) {
	ev, err := s.siteEvent(r)
	if err != nil {
		return List[Transition]{}, err
	}
	p, err := s.page(r, "transitions", s.opts.Limits.DefaultTransitionPageSize)
	if err != nil {
		return List[Transition]{}, err
	}
	rows, err := s.opts.Events.ListTransitions(r.Context(), ev.ID, p.after, p.limit+1)
	if err != nil {
		return List[Transition]{}, storeErr(err, "")
	}
	return paginate(rows, p, "transitions", func(t uptime.Transition) int64 { return t.ID }, transitionOf), nil
}

// closeEvent is POST /sites/{site_id}/events/{event_id}/close: the
// coordinator closes the event (and moves the projection in the same
// transaction). An event already closed answers 200 with its detail.
func (s *Server) closeEvent(r *http.Request, in *CloseEventRequest) (EventDetail, error) {
	reason := uptime.ReasonManualOverride
	if in.Reason != nil {
		reason = *in.Reason
	}
	if !slices.Contains(closeReasons(), reason) {
		return EventDetail{}, fieldErr(codeInvalidField, "reason", "an operator may close with %v", closeReasons())
	}
	if in.Note != nil && utf8.RuneCountInString(*in.Note) > maxCloseNoteLength {
		return EventDetail{}, fieldErr(codeInvalidField, "note", "at most %d characters", maxCloseNoteLength)
	}
	ev, err := s.siteEvent(r)
	if err != nil {
		return EventDetail{}, err
	}
	if !ev.Open() {
		return s.eventDetail(r.Context(), ev)
	}
	req := CloseRequest{BlogID: ev.BlogID, EventID: ev.ID, CheckType: ev.CheckType, Reason: reason,
		Note: deref(in.Note), Actor: callOf(r).key.Consumer}
	if _, err := s.opts.Coordinator.CloseEvents(r.Context(), req); err != nil {
		return EventDetail{}, coordErr(err, codeEventNotFound)
	}
	if ev, err = s.opts.Events.GetEvent(r.Context(), ev.ID); err != nil {
		return EventDetail{}, storeErr(err, codeEventNotFound)
	}
	return s.eventDetail(r.Context(), ev)
}
