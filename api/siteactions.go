package api

import (
	"net/http"
)

// pauseSite is POST /sites/{site_id}/pause: the coordinator closes the
// site's open events FIRST; only once it answered is monitor_active
// cleared. Without a leader: 503 coordinator_unavailable, nothing changed.
func (s *Server) pauseSite(r *http.Request, _ *NoBody) (SiteDetail, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return SiteDetail{}, err
	}
	if _, err := s.opts.Coordinator.PauseSite(r.Context(), site.BlogID, callOf(r).key.Consumer); err != nil {
		return SiteDetail{}, coordErr(err, codeSiteNotFound)
	}
	return s.writeSite(r, site.BlogID, SitePatch{Active: ptr(false)})
}

// resumeSite is POST /sites/{site_id}/resume: monitor_active is set again
// (closed events stay closed; the mesh's checks decide anew).
func (s *Server) resumeSite(r *http.Request, _ *NoBody) (SiteDetail, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return SiteDetail{}, err
	}
	return s.writeSite(r, site.BlogID, SitePatch{Active: ptr(true)})
}

// deleteSite is DELETE /sites/{site_id}: a soft delete (monitor_active 0,
// the row stays readable), after the coordinator closed the open events.
// Repeating it succeeds.
func (s *Server) deleteSite(r *http.Request, _ *NoBody) (NoContent, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return NoContent{}, err
	}
	if _, err := s.opts.Coordinator.DeleteSite(r.Context(), site.BlogID, callOf(r).key.Consumer); err != nil {
		return NoContent{}, coordErr(err, codeSiteNotFound)
	}
	if site.Active {
		p := SitePatch{Active: ptr(false)}
		if _, err := s.opts.Sites.UpdateSite(r.Context(), site.BlogID, p, callOf(r).tenant); err != nil {
			return NoContent{}, storeErr(err, codeSiteNotFound)
		}
		s.syncSites(r)
	}
	return NoContent{}, nil
}

// triggerSite is POST /sites/{site_id}/trigger-now: the prober that owns
// the site's bucket checks it now through the coordinator, which decides
// the result as the mesh would (a success closes the open events; a
// failure opens nothing).
func (s *Server) triggerSite(r *http.Request, _ *NoBody) (TriggerNowResponse, error) {
	site, err := s.visibleSite(r)
	if err != nil {
		return TriggerNowResponse{}, err
	}
	res, err := s.opts.Coordinator.TriggerSite(r.Context(), site.BlogID)
	if err != nil {
		return TriggerNowResponse{}, coordErr(err, codeSiteNotFound)
	}
	// Re-read: the coordinator's close may have moved the legacy projection.
	if site, err = s.opts.Sites.GetSite(r.Context(), site.BlogID, callOf(r).tenant); err != nil {
		return TriggerNowResponse{}, storeErr(err, codeSiteNotFound)
	}
	d, err := s.deriveOne(r.Context(), site)
	if err != nil {
		return TriggerNowResponse{}, err
	}
	out := TriggerNowResponse{
		Result: checkResultOf(res.Result), NodeID: res.NodeID, Region: res.Region, EventsClosed: res.Closed,
		CurrentState: d.state, CurrentSeverity: d.severity,
	}
	if d.eventID != 0 {
		out.ActiveEventID = ptr(d.eventID)
	}
	return out, nil
}
