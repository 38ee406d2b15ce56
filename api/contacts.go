package api

import (
	"errors"
	"net/http"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func contactID(c uptime.AlertContact) int64 { return c.ID }

// listAlertContacts is GET /alert-contacts.
func (s *Server) listAlertContacts(r *http.Request, _ *NoBody) (List[AlertContact], error) {
	p, err := s.page(r, "alert-contacts", s.opts.Limits.DefaultPageSize)
	if err != nil {
		return List[AlertContact]{}, err
	}
	rows, err := s.opts.AlertContacts.ListAlertContacts(r.Context(), callOf(r).tenant)
	if err != nil {
		return List[AlertContact]{}, storeErr(err, "")
	}
	return pageOf(rows, p, "alert-contacts", contactID, contactOf), nil
}

// visibleContact reads the path's alert contact as the caller's tenant
// sees it.
func (s *Server) visibleContact(r *http.Request) (uptime.AlertContact, error) {
	return visible(r, "alert_contact_id", codeContactNotFound, s.opts.AlertContacts.GetAlertContact)
}

// getAlertContact is GET /alert-contacts/{alert_contact_id}.
func (s *Server) getAlertContact(r *http.Request, _ *NoBody) (AlertContact, error) {
	c, err := s.visibleContact(r)
	if err != nil {
		return AlertContact{}, err
	}
	return contactOf(c), nil
}

// createAlertContact is POST /alert-contacts.
func (s *Server) createAlertContact(r *http.Request, in *CreateAlertContactRequest) (AlertContact, error) {
	c, err := contactOfRequest(in)
	if err != nil {
		return AlertContact{}, err
	}
	call := callOf(r)
	c.OwnerTenantID, c.CreatedBy = string(call.tenant), call.key.Consumer
	created, err := s.opts.AlertContacts.CreateAlertContact(r.Context(), c, call.tenant)
	if err != nil {
		return AlertContact{}, storeErr(err, "")
	}
	return contactOf(created), nil
}

// updateAlertContact is PATCH /alert-contacts/{alert_contact_id}.
func (s *Server) updateAlertContact(r *http.Request, in *UpdateAlertContactRequest) (AlertContact, error) {
	c, err := s.visibleContact(r)
	if err != nil {
		return AlertContact{}, err
	}
	p, err := contactPatchOf(in, c.Transport)
	if err != nil {
		return AlertContact{}, err
	}
	updated, err := s.opts.AlertContacts.UpdateAlertContact(r.Context(), c.ID, p, callOf(r).tenant)
	if err != nil {
		return AlertContact{}, storeErr(err, codeContactNotFound)
	}
	return contactOf(updated), nil
}

// deleteAlertContact is DELETE /alert-contacts/{alert_contact_id}: a hard
// delete; its delivery rows stay.
func (s *Server) deleteAlertContact(r *http.Request, _ *NoBody) (NoContent, error) {
	id, err := pathID(r, "alert_contact_id")
	if err != nil {
		return NoContent{}, err
	}
	if err := s.opts.AlertContacts.DeleteAlertContact(r.Context(), id, callOf(r).tenant); err != nil {
		return NoContent{}, storeErr(err, codeContactNotFound)
	}
	return NoContent{}, nil
}

// AlertContactTestResponse is send-test's answer (200 delivered, 502 not).
type AlertContactTestResponse struct {
	ContactID    int64                 `json:"contact_id"`
	Transport    uptime.AlertTransport `json:"transport"`
	Delivered    bool                  `json:"delivered"`
	StatusCode   int                   `json:"status_code" doc:"the receiver's HTTP (or SMTP) status; 0 when nothing answered"`
	ResponseBody string                `json:"response_body" doc:"at most 2048 bytes of the receiver's answer"`
	Error        *string               `json:"error" doc:"why the send failed (URLs redacted)"`
}

func (a AlertContactTestResponse) httpStatus(rt *route) int {
	if a.Delivered {
		return rt.status
	}
	return rt.altStatus
}

// testAlertContact is POST /alert-contacts/{alert_contact_id}/test: a test
// notice through the deliverers' senders, bypassing filters, the active
// flag and the rate cap; no delivery row is written.
func (s *Server) testAlertContact(r *http.Request, _ *NoBody) (AlertContactTestResponse, error) {
	c, err := s.visibleContact(r)
	if err != nil {
		return AlertContactTestResponse{}, err
	}
	res, err := s.opts.DeliveryOps.SendTest(r.Context(), c.ID)
	out := AlertContactTestResponse{ContactID: c.ID, Transport: c.Transport, Delivered: err == nil,
		StatusCode: res.StatusCode, ResponseBody: res.Response}
	switch {
	case errors.Is(err, ErrTransportNotConfigured):
		return AlertContactTestResponse{}, fieldErr(codeTransportNotConfd, "transport", "this process has no %s sender", c.Transport)
	case errors.Is(err, ErrNotFound):
		return AlertContactTestResponse{}, storeErr(err, codeContactNotFound)
	case err != nil:
		out.Error = ptr(redactURLs(err.Error()))
	}
	return out, nil
}
