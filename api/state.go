package api

import (
	"context"
	"slices"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// derived is a site's current state as the API reports it.
type derived struct {
	state    uptime.State
	severity uptime.Severity
	eventID  int64          // the worst open event, 0 for none
	open     []uptime.Event // every open event, worst first
}

// worse reports whether a is worse than b: higher severity, then the
// earlier start, then the lower id (so the pick is deterministic).
func worse(a, b uptime.Event) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.Before(b.StartedAt)
	}
	return a.ID < b.ID
}

// baseline is a site's state without an open event: the legacy site_status
// while the projection is written (it is kept in step with the events in
// the coordinator's transaction), else Up whatever the stale column says.
func (s *Server) baseline(site uptime.SiteConfig) derived {
	if !s.opts.LegacyStatusProjection {
		return derived{state: uptime.StateUp, severity: uptime.SeverityUp}
	}
	switch site.LegacyStatus {
	case uptime.LegacySiteDown:
		return derived{state: uptime.StateSeemsDown, severity: uptime.SeveritySeemsDown}
	case uptime.LegacySiteRunning:
		return derived{state: uptime.StateUp, severity: uptime.SeverityUp}
	case uptime.LegacySiteConfirmedDown:
		return derived{state: uptime.StateDown, severity: uptime.SeverityDown}
	default:
		return derived{state: uptime.StateUnknown, severity: uptime.SeverityUp}
	}
}

// deriveStates reads the open events of every site with one
// EventStore.OpenEvents call and reduces them in Go: each site's worst open
// event sets its state; a site without one gets its baseline. Lists, single
// sites and write responses all use it, so one site never shows two states.
func (s *Server) deriveStates(ctx context.Context, sites []uptime.SiteConfig) (map[int64]derived, error) {
	ids := make([]int64, len(sites))
	for i, site := range sites {
		ids[i] = site.BlogID
	}
	out := make(map[int64]derived, len(sites))
	if len(ids) == 0 {
		return out, nil
	}
	events, err := s.opts.Events.OpenEvents(ctx, ids)
	if err != nil {
		return nil, storeErr(err, "")
	}
	byBlog := map[int64][]uptime.Event{}
	for _, ev := range events {
		if ev.Open() {
			byBlog[ev.BlogID] = append(byBlog[ev.BlogID], ev)
		}
	}
	for _, site := range sites {
		open := byBlog[site.BlogID]
		if len(open) == 0 {
			out[site.BlogID] = s.baseline(site)
			continue
		}
		slices.SortFunc(open, func(a, b uptime.Event) int {
			switch {
			case worse(a, b):
				return -1
			case worse(b, a):
				return 1
			default:
				return 0
			}
		})
		w := open[0]
		out[site.BlogID] = derived{state: w.State, severity: w.Severity, eventID: w.ID, open: open}
	}
	return out, nil
}

// deriveOne is deriveStates for one site.
func (s *Server) deriveOne(ctx context.Context, site uptime.SiteConfig) (derived, error) {
	m, err := s.deriveStates(ctx, []uptime.SiteConfig{site})
	if err != nil {
		return derived{}, err
	}
	return m[site.BlogID], nil
}
