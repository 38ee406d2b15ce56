package api

import (
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

const maxStatsWindow = 90 * 24 * time.Hour

func statsParams() []param {
	return []param{
		{name: "window", kind: kindString, doc: "the window ending now (default 24h)", enum: []string{"1h", "24h", "1d", "7d", "30d", "90d"}},
		{name: "from", kind: kindTime, doc: "window start (with to; overrides window)"},
		{name: "to", kind: kindTime, doc: "window end, exclusive (with from)"},
	}
}

// Window is a stats window [from, to).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// window reads window or from+to.
func (s *Server) window(r *http.Request) (Window, error) {
	q := r.URL.Query()
	from, errFrom := queryTime(r, "from", codeInvalidWindow)
	to, errTo := queryTime(r, "to", codeInvalidWindow)
	switch {
	case errFrom != nil:
		return Window{}, errFrom
	case errTo != nil:
		return Window{}, errTo
	case !from.IsZero() || !to.IsZero():
		if from.IsZero() || to.IsZero() || !from.Before(to) || to.Sub(from) > maxStatsWindow {
			return Window{}, fieldErr(codeInvalidWindow, "from", "from and to are both required, from < to, at most 90 days apart")
		}
		return Window{From: utc(from), To: utc(to)}, nil
	}
	spans := map[string]time.Duration{"": 24 * time.Hour, "1h": time.Hour, "24h": 24 * time.Hour, "1d": 24 * time.Hour,
		"7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "90d": maxStatsWindow}
	span, ok := spans[q.Get("window")]
	if !ok {
		return Window{}, fieldErr(codeInvalidWindow, "window", "must be 1h, 24h, 1d, 7d, 30d or 90d")
	}
	now := utc(s.now())
	return Window{From: now.Add(-span), To: now}, nil
}

// UptimeResponse is a site's availability in a window, from its events.
type UptimeResponse struct {
	Window             Window  `json:"window"`
	TotalSeconds       int64   `json:"total_seconds"`
	DownSeconds        int64   `json:"down_seconds" doc:"union of the Down and Seems Down events (false alarms excluded), clipped to the window"`
	DegradedSeconds    int64   `json:"degraded_seconds"`
	WarningSeconds     int64   `json:"warning_seconds"`
	MaintenanceSeconds int64   `json:"maintenance_seconds"`
	UnknownSeconds     int64   `json:"unknown_seconds"`
	IncidentCount      int     `json:"incident_count" doc:"down events overlapping the window"`
	UptimePercent      float64 `json:"uptime_percent" doc:"(1 - down/total) x 100, 3 decimals"`
	MTTRSeconds        *int64  `json:"mttr_seconds" doc:"down_seconds / incident_count; null without incidents"`
	MTBFSeconds        *int64  `json:"mtbf_seconds" doc:"(total - down) / incident_count; null without incidents"`
	Checks             int64   `json:"checks" doc:"checks in the window's hourly roll-ups"`
	FailedChecks       int64   `json:"failed_checks"`
}

type interval struct{ from, to time.Time }

// getSiteUptime is GET /sites/{site_id}/uptime. An event counts by its
// final state for its whole (clipped) span; intervals of one kind are
// merged so overlapping events are not counted twice.
func (s *Server) getSiteUptime(r *http.Request, _ *NoBody) (UptimeResponse, error) {
	site, w, err := s.statsSite(r)
	if err != nil {
		return UptimeResponse{}, err
	}
	events, err := s.opts.Stats.EventsOverlapping(r.Context(), site.BlogID, w.From, w.To)
	if err != nil {
		return UptimeResponse{}, storeErr(err, "")
	}
	rollups, err := s.opts.Stats.Rollups(r.Context(), site.BlogID, w.From.Truncate(time.Hour), w.To)
	if err != nil {
		return UptimeResponse{}, storeErr(err, "")
	}
	byState := map[uptime.State][]interval{}
	out := UptimeResponse{Window: w, TotalSeconds: int64(w.To.Sub(w.From).Seconds())}
	for _, ev := range events {
		iv, ok := clip(ev, w, s.now())
		if !ok || ev.ResolutionReason == uptime.ReasonFalseAlarm {
			continue
		}
		state := ev.State
		if state == uptime.StateSeemsDown {
			state = uptime.StateDown
		}
		if state == uptime.StateDown {
			out.IncidentCount++
		}
		byState[state] = append(byState[state], iv)
	}
	out.DownSeconds = unionSeconds(byState[uptime.StateDown])
	out.DegradedSeconds = unionSeconds(byState[uptime.StateDegraded])
	out.WarningSeconds = unionSeconds(byState[uptime.StateWarning])
	out.MaintenanceSeconds = unionSeconds(byState[uptime.StateMaintenance])
	out.UnknownSeconds = unionSeconds(byState[uptime.StateUnknown])
	out.UptimePercent = math.Round((1-float64(out.DownSeconds)/float64(out.TotalSeconds))*100*1000) / 1000
	if out.IncidentCount > 0 {
		out.MTTRSeconds = ptr(out.DownSeconds / int64(out.IncidentCount))
		out.MTBFSeconds = ptr((out.TotalSeconds - out.DownSeconds) / int64(out.IncidentCount))
	}
	for _, h := range rollups {
		out.Checks += h.Checks
		out.FailedChecks += h.Failures
	}
	return out, nil
}

// statsSite reads the visible site and the window.
func (s *Server) statsSite(r *http.Request) (uptime.SiteConfig, Window, error) {
	w, err := s.window(r)
	if err != nil {
		return uptime.SiteConfig{}, Window{}, err
	}
	site, err := s.visibleSite(r)
	return site, w, err
}

// clip is ev's span within w (an open event runs until now).
func clip(ev uptime.Event, w Window, now time.Time) (interval, bool) {
	end := ev.EndedAt
	if end.IsZero() {
		end = now
	}
	iv := interval{from: maxTime(ev.StartedAt, w.From), to: minTime(end, w.To)}
	return iv, iv.to.After(iv.from)
}

// unionSeconds is the length of the union of ivs.
func unionSeconds(ivs []interval) int64 {
	slices.SortFunc(ivs, func(a, b interval) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur interval
	for i, iv := range ivs {
		switch {
		case i == 0:
			cur = iv
		case !iv.from.After(cur.to):
			cur.to = maxTime(cur.to, iv.to)
		default:
			total += cur.to.Sub(cur.from)
			cur = iv
		}
	}
	if len(ivs) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return int64(total.Seconds())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
