package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/jetmon-mesh/jetmon/uptime"
)

const maxQueryLen = 255

func (s *Server) siteListParams() []param {
	return slices.Concat(s.pageParams(s.opts.Limits.DefaultPageSize),
		stateParams("only sites in this derived state (applied after derivation: a page may be short)"), []param{
			{name: "severity__gte", kind: kindInt, doc: "only sites whose derived severity is at least this (0-255)"},
			{name: "monitor_active", kind: kindBool, doc: "true or false (1 or 0)"},
			{name: "q", kind: kindString, doc: "only sites whose monitor_url contains this text"},
		})
}

// stateParams are the state / state__in filters of a list.
func stateParams(doc string) []param {
	return []param{
		{name: "state", kind: kindString, doc: doc, enum: stateNames()},
		{name: "state__in", kind: kindCSV, doc: "comma-separated states; not with state", enum: stateNames()},
	}
}

// siteFilter is the post-derivation part of a list request.
type siteFilter struct {
	states      []uptime.State
	severityGTE *int
}

func (f siteFilter) keep(d derived) bool {
	if len(f.states) > 0 && !slices.Contains(f.states, d.state) {
		return false
	}
	return f.severityGTE == nil || int(d.severity) >= *f.severityGTE
}

// parseSiteList reads the list's query into the store query and the
// post-derivation filter.
func (s *Server) parseSiteList(r *http.Request) (SiteQuery, siteFilter, pageReq, error) {
	p, err := s.page(r, "sites", s.opts.Limits.DefaultPageSize)
	if err != nil {
		return SiteQuery{}, siteFilter{}, pageReq{}, err
	}
	var f siteFilter
	if f.states, err = parseStates(r, "state", codeInvalidStateFilter); err != nil {
		return SiteQuery{}, siteFilter{}, pageReq{}, err
	}
	if v := r.URL.Query().Get("severity__gte"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			return SiteQuery{}, siteFilter{}, pageReq{}, fieldErr(codeInvalidSeverity, "severity__gte", "must be an integer 0-255, got %q", v)
		}
		f.severityGTE = &n
	}
	q := SiteQuery{AfterBlogID: p.after, Limit: p.limit + 1, Tenant: callOf(r).tenant, URLContains: r.URL.Query().Get("q")}
	if len(q.URLContains) > maxQueryLen {
		return SiteQuery{}, siteFilter{}, pageReq{}, fieldErr(codeInvalidQuery, "q", "longer than %d bytes", maxQueryLen)
	}
	if q.Active, err = queryBool(r, "monitor_active", codeInvalidMonitorAct); err != nil {
		return SiteQuery{}, siteFilter{}, pageReq{}, err
	}
	return q, f, p, nil
}

// parseStates reads name / name__in as states.
func parseStates(r *http.Request, name string, code ErrorCode) ([]uptime.State, error) {
	vals, err := queryList(r, name, code)
	if err != nil {
		return nil, err
	}
	out := make([]uptime.State, 0, len(vals))
	for _, v := range vals {
		if !slices.Contains(stateNames(), v) {
			return nil, fieldErr(code, name, "unknown state %q", v)
		}
		out = append(out, uptime.State(v))
	}
	return out, nil
}

// listSites is GET /sites: one page of sites in blog_id order, each with
// its derived state (one OpenEvents call for the page).
func (s *Server) listSites(r *http.Request, _ *NoBody) (List[Site], error) {
	q, f, p, err := s.parseSiteList(r)
	if err != nil {
		return List[Site]{}, err
	}
	rows, err := s.opts.Sites.ListSites(r.Context(), q)
	if err != nil {
		return List[Site]{}, storeErr(err, "")
	}
	more := len(rows) > p.limit
	if more {
		rows = rows[:p.limit]
	}
	states, err := s.deriveStates(r.Context(), rows)
	if err != nil {
		return List[Site]{}, err
	}
	out := List[Site]{Data: []Site{}, Page: Page{Limit: p.limit}}
	for _, row := range rows {
		if d := states[row.BlogID]; f.keep(d) {
			out.Data = append(out.Data, siteOf(row, d))
		}
	}
	if len(rows) > 0 {
		out.Page.Next = nextCursor("sites", rows[len(rows)-1].BlogID, more)
	}
	return out, nil
}

// visibleSite reads the path's site as the caller's tenant sees it.
func (s *Server) visibleSite(r *http.Request) (uptime.SiteConfig, error) {
	return visible(r, "site_id", codeSiteNotFound, s.opts.Sites.GetSite)
}

// getSite is GET /sites/{site_id}.
func (s *Server) getSite(r *http.Request, _ *NoBody) (SiteDetail, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return SiteDetail{}, err
	}
	return s.detailOf(r.Context(), site)
}

// detailOf derives site's state for a response.
func (s *Server) detailOf(ctx context.Context, site uptime.SiteConfig) (SiteDetail, error) {
	d, err := s.deriveOne(ctx, site)
	if err != nil {
		return SiteDetail{}, err
	}
	return siteDetailOf(site, d), nil
}

// createSite is POST /sites. The coordinator is asked to mirror the new row
// at once (best effort: its periodic sync catches up otherwise).
func (s *Server) createSite(r *http.Request, in *CreateSiteRequest) (SiteDetail, error) {
	cfg, err := s.siteOfRequest(in)
	if err != nil {
		return SiteDetail{}, err
	}
	site, err := s.opts.Sites.CreateSite(r.Context(), cfg, callOf(r).tenant)
	if errors.Is(err, ErrConflict) {
		return SiteDetail{}, fieldErr(codeSiteExists, "blog_id", "a site with blog_id %d exists", in.BlogID)
	}
	if err != nil {
		return SiteDetail{}, storeErr(err, "")
	}
	s.syncSites(r)
	return s.detailOf(r.Context(), site)
}

// updateSite is PATCH /sites/{site_id}. Setting monitor_active false on an
// active site pauses it: the coordinator closes its open events first, and
// without a leader nothing changes (503).
func (s *Server) updateSite(r *http.Request, in *UpdateSiteRequest) (SiteDetail, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return SiteDetail{}, err
	}
	p, err := s.patchOfRequest(in)
	if err != nil {
		return SiteDetail{}, err
	}
	if emptyPatch(p) {
		return s.detailOf(r.Context(), site)
	}
	if p.Active != nil && !*p.Active && site.Active {
		if _, err := s.opts.Coordinator.PauseSite(r.Context(), site.BlogID, callOf(r).key.Consumer); err != nil {
			return SiteDetail{}, coordErr(err, codeSiteNotFound)
		}
	}
	return s.writeSite(r, site.BlogID, p)
}

// writeSite applies p to the site, asks the coordinator to mirror the row
// now, and answers the site as it is after the write.
func (s *Server) writeSite(r *http.Request, blogID int64, p SitePatch) (SiteDetail, error) {
	site, err := s.opts.Sites.UpdateSite(r.Context(), blogID, p, callOf(r).tenant)
	if err != nil {
		return SiteDetail{}, storeErr(err, codeSiteNotFound)
	}
	s.syncSites(r)
	return s.detailOf(r.Context(), site)
}

// syncSites asks the coordinator to mirror changed rows now. Best effort:
// the write has committed and the coordinator's periodic incremental sync
// (every few seconds) picks it up anyway, so a failure is only logged.
func (s *Server) syncSites(r *http.Request) {
	if err := s.opts.Coordinator.SyncSites(r.Context()); err != nil {
		s.log.Warn("api site sync request failed; the periodic sync will mirror the change",
			"component", "api", "request_id", callOf(r).requestID, "err", err)
	}
}

func stateNames() []string {
	return []string{string(uptime.StateUp), string(uptime.StateWarning), string(uptime.StateDegraded),
		string(uptime.StateSeemsDown), string(uptime.StateDown), string(uptime.StatePaused),
		string(uptime.StateMaintenance), string(uptime.StateUnknown), string(uptime.StateResolved)}
}
