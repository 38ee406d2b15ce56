package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode is a stable code of the error envelope. Every code the API can
// answer with is a row of errorTable; nothing writes a status ad hoc.
type ErrorCode string

// Error codes, grouped by status.
const (
	codeMissingToken      ErrorCode = "missing_token"
	codeInvalidToken      ErrorCode = "invalid_token"
	codeTokenRevoked      ErrorCode = "token_revoked"
	codeTokenExpired      ErrorCode = "token_expired"
	codeInsufficientScope ErrorCode = "insufficient_scope"
	codeForbiddenGateway  ErrorCode = "forbidden_gateway_context"

	codeInvalidGateway     ErrorCode = "invalid_gateway_context"
	codeInvalidBody        ErrorCode = "invalid_body"
	codeInvalidQuery       ErrorCode = "invalid_query"
	codeInvalidLimit       ErrorCode = "invalid_limit"
	codeInvalidCursor      ErrorCode = "invalid_cursor"
	codeInvalidSiteID      ErrorCode = "invalid_site_id"
	codeInvalidEventID     ErrorCode = "invalid_event_id"
	codeInvalidWebhookID   ErrorCode = "invalid_webhook_id"
	codeInvalidContactID   ErrorCode = "invalid_alert_contact_id"
	codeInvalidDeliveryID  ErrorCode = "invalid_delivery_id"
	codeInvalidStateFilter ErrorCode = "invalid_state_filter"
	codeInvalidSeverity    ErrorCode = "invalid_severity"
	codeInvalidMonitorAct  ErrorCode = "invalid_monitor_active"
	codeInvalidActive      ErrorCode = "invalid_active"
	codeInvalidStartedGTE  ErrorCode = "invalid_started_at__gte"
	codeInvalidStartedLT   ErrorCode = "invalid_started_at__lt"
	codeInvalidWindow      ErrorCode = "invalid_window"
	codeInvalidStatus      ErrorCode = "invalid_status"
	codeInvalidURL         ErrorCode = "invalid_url"
	codeInvalidBlogID      ErrorCode = "invalid_blog_id"
	codeInvalidTransport   ErrorCode = "invalid_transport"
	codeInvalidIdemKey     ErrorCode = "invalid_idempotency_key"
	codeInvalidGrace       ErrorCode = "invalid_grace"
	codeBodyTooLarge       ErrorCode = "body_too_large"

	codeInvalidRedirect     ErrorCode = "invalid_redirect_policy"
	codeInvalidHeaders      ErrorCode = "invalid_custom_headers"
	codeInvalidField        ErrorCode = "invalid_field"
	codeInvalidEventType    ErrorCode = "invalid_event_type"
	codeInvalidAlertContact ErrorCode = "invalid_alert_contact"

	codeSiteNotFound     ErrorCode = "site_not_found"
	codeEventNotFound    ErrorCode = "event_not_found"
	codeWebhookNotFound  ErrorCode = "webhook_not_found"
	codeContactNotFound  ErrorCode = "alert_contact_not_found"
	codeDeliveryNotFound ErrorCode = "delivery_not_found"
	codeEndpointNotFound ErrorCode = "endpoint_not_found"
	codeMethodNotAllowed ErrorCode = "method_not_allowed"

	codeSiteExists        ErrorCode = "site_exists"
	codeIdemConflict      ErrorCode = "idempotency_conflict"
	codeIdemInProgress    ErrorCode = "idempotency_in_progress"
	codeDeliveryNotRetry  ErrorCode = "delivery_not_retryable"
	codeRateLimited       ErrorCode = "rate_limited"
	codeAuthError         ErrorCode = "auth_error"
	codeDBError           ErrorCode = "db_error"
	codeInternal          ErrorCode = "internal_error"
	codeCoordinatorError  ErrorCode = "coordinator_error"
	codeDBUnavailable     ErrorCode = "db_unavailable"
	codeNATSUnavailable   ErrorCode = "nats_unavailable"
	codeCoordUnavailable  ErrorCode = "coordinator_unavailable"
	codeTransportNotConfd ErrorCode = "transport_not_configured"
)

// errorSpec is one row of the error table.
type errorSpec struct {
	code   ErrorCode
	status int
	doc    string
}

// errorTable is the one place that maps an error code to its HTTP status
// (docs/api.md and the OpenAPI enum are generated from it).
func errorTable() []errorSpec {
	return []errorSpec{
		{codeMissingToken, 401, "no `Authorization: Bearer <token>` header"},
		{codeInvalidToken, 401, "the token is malformed or matches no key"},
		{codeTokenRevoked, 401, "the key's revoked_at has passed (the cutoff is half-open)"},
		{codeTokenExpired, 401, "the key's expires_at has passed (the cutoff is half-open)"},
		{codeInsufficientScope, 403, "the key's scope is below the route's"},
		{codeForbiddenGateway, 403, "gateway tenant headers from a key whose consumer is not `gateway`"},
		{codeInvalidGateway, 400, "gateway tenant headers are incomplete or malformed"},
		{codeInvalidBody, 400, "the body is not one JSON value of the request type (unknown, duplicate or mistyped fields, trailing data, empty required body)"},
		{codeInvalidQuery, 400, "an unknown or malformed query parameter"},
		{codeInvalidLimit, 400, "limit is not an integer >= 1"},
		{codeInvalidCursor, 400, "cursor was not issued by this list"},
		{codeInvalidSiteID, 400, "the site id in the path is not a positive integer"},
		{codeInvalidEventID, 400, "the event id in the path is not a positive integer"},
		{codeInvalidWebhookID, 400, "the webhook id in the path is not a positive integer"},
		{codeInvalidContactID, 400, "the alert contact id in the path is not a positive integer"},
		{codeInvalidDeliveryID, 400, "the delivery id in the path is not a positive integer"},
		{codeInvalidStateFilter, 400, "state/state__in name an unknown state, or both are given"},
		{codeInvalidSeverity, 400, "a severity is not a valid number or name"},
		{codeInvalidMonitorAct, 400, "monitor_active is not true/false/1/0"},
		{codeInvalidActive, 400, "active is not true/false/1/0"},
		{codeInvalidStartedGTE, 400, "started_at__gte is not an RFC 3339 time"},
		{codeInvalidStartedLT, 400, "started_at__lt is not an RFC 3339 time"},
		{codeInvalidWindow, 400, "window, from or to is invalid"},
		{codeInvalidStatus, 400, "status names an unknown delivery status"},
		{codeInvalidURL, 400, "a URL is not http(s) with a host, or is too long"},
		{codeInvalidBlogID, 400, "blog_id is missing or not positive"},
		{codeInvalidTransport, 400, "transport is not email, pagerduty, slack or teams"},
		{codeInvalidIdemKey, 400, "Idempotency-Key is longer than 255 characters or not printable ASCII"},
		{codeInvalidGrace, 400, "grace is not a duration between 0 and 168h"},
		{codeBodyTooLarge, 413, "the body exceeds the size cap"},
		{codeInvalidRedirect, 422, "redirect_policy is not follow, alert or fail"},
		{codeInvalidHeaders, 422, "custom_headers has an invalid name or value"},
		{codeInvalidField, 422, "a field's value is out of range or not allowed"},
		{codeInvalidEventType, 422, "a webhook event type is unknown"},
		{codeInvalidAlertContact, 422, "an alert contact's label, destination or max_per_hour is invalid"},
		{codeSiteNotFound, 404, "no such site (or not visible to the tenant)"},
		{codeEventNotFound, 404, "no such event on this site (or not visible to the tenant)"},
		{codeWebhookNotFound, 404, "no such webhook (or not owned by the tenant)"},
		{codeContactNotFound, 404, "no such alert contact (or not owned by the tenant)"},
		{codeDeliveryNotFound, 404, "no such delivery for this webhook or alert contact"},
		{codeEndpointNotFound, 404, "no route for the path"},
		{codeMethodNotAllowed, 405, "the path exists but not for this method (see Allow)"},
		{codeSiteExists, 409, "a site with this blog_id exists"},
		{codeIdemConflict, 409, "the Idempotency-Key was used with a different request"},
		{codeIdemInProgress, 409, "the first request with this Idempotency-Key is still running"},
		{codeDeliveryNotRetry, 409, "the delivery is neither failed nor abandoned"},
		{codeRateLimited, 429, "the key's rate limit is spent (see Retry-After)"},
		{codeAuthError, 500, "the key store failed"},
		{codeDBError, 500, "the database failed"},
		{codeInternal, 500, "an unexpected failure"},
		{codeCoordinatorError, 502, "the coordinator refused or failed the command"},
		{codeDBUnavailable, 503, "health: the database is missing or does not answer"},
		{codeNATSUnavailable, 503, "NATS is missing or does not answer (health, mesh)"},
		{codeCoordUnavailable, 503, "no coordinator leader answered: nothing was changed"},
		{codeTransportNotConfd, 503, "this process has no sender for the contact's transport"},
	}
}

// apiError is a failure a handler or middleware reports; s.fail maps its
// code to the status through errorTable.
type apiError struct {
	code  ErrorCode
	msg   string
	field string // the offending field or parameter, if any
	cause error  // logged, never shown
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.code, e.msg, e.cause)
	}
	return string(e.code) + ": " + e.msg
}

func (e *apiError) Unwrap() error { return e.cause }

// errf is an apiError without a field.
func errf(code ErrorCode, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// fieldErr is an apiError naming field; the message starts with it.
func fieldErr(code ErrorCode, field, format string, args ...any) *apiError {
	return &apiError{code: code, field: field, msg: field + ": " + fmt.Sprintf(format, args...)}
}

// storeErr maps a store error: ErrNotFound to notFound, anything else to
// db_error (the driver's text is logged, never returned).
func storeErr(err error, notFound ErrorCode) error {
	if errors.Is(err, ErrNotFound) && notFound != "" {
		return &apiError{code: notFound, msg: notFoundMessage(notFound), cause: err}
	}
	return &apiError{code: codeDBError, msg: "database error", cause: err}
}

// coordErr maps a Coordinator error.
func coordErr(err error, notFound ErrorCode) error {
	switch {
	case errors.Is(err, ErrCoordinatorUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &apiError{code: codeCoordUnavailable, msg: "no coordinator leader answered; nothing was changed", cause: err}
	case errors.Is(err, ErrNotFound):
		return &apiError{code: notFound, msg: notFoundMessage(notFound), cause: err}
	default:
		return &apiError{code: codeCoordinatorError, msg: "the coordinator failed the command", cause: err}
	}
}

func notFoundMessage(code ErrorCode) string {
	switch code {
	case codeSiteNotFound:
		return "no such site"
	case codeEventNotFound:
		return "no such event on this site"
	case codeWebhookNotFound:
		return "no such webhook"
	case codeContactNotFound:
		return "no such alert contact"
	case codeDeliveryNotFound:
		return "no such delivery"
	default:
		return "not found"
	}
}

// ErrorEnvelope is every error response's body.
type ErrorEnvelope struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the envelope's content.
type ErrorBody struct {
	Code      ErrorCode `json:"code"`
	Message   string    `json:"message"`
	RequestID string    `json:"request_id"`
	Field     string    `json:"field,omitempty" doc:"the offending field, query parameter or header"`
}

// fail writes err as the error envelope. Errors that are not *apiError are
// internal_error; 5xx causes are logged with the request id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae, ok := errors.AsType[*apiError](err)
	if !ok {
		ae = &apiError{code: codeInternal, msg: "internal error", cause: err}
	}
	status, known := s.statusOf[ae.code]
	if !known {
		s.log.Error("api error code missing from the error table", "component", "api", "code", ae.code)
		status, ae = http.StatusInternalServerError, &apiError{code: codeInternal, msg: "internal error", cause: err}
	}
	c := callOf(r)
	c.note = string(ae.code)
	if status >= 500 {
		s.log.Error("api request failed", "component", "api", "request_id", c.requestID,
			"route", routePattern(r), "code", ae.code, "err", err)
	}
	writeJSON(w, status, ErrorEnvelope{Error: ErrorBody{Code: ae.code, Message: ae.msg, RequestID: c.requestID, Field: ae.field}})
}
