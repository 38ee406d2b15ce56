package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// call is the per-request state the middleware chain shares (one pointer in
// the request context, written by one goroutine).
type call struct {
	requestID string
	start     time.Time // wall clock, for durations only
	key       uptime.APIKey
	authed    bool
	tenant    Tenant
	note      string // why the request was rejected, for the audit row
	body      []byte
	bodyRead  bool
}

type callKey struct{}

// callOf is the request's call; a request that did not pass observe gets a
// throwaway one.
func callOf(r *http.Request) *call {
	if c, ok := r.Context().Value(callKey{}).(*call); ok {
		return c
	}
	return &call{}
}

// recorder captures the status (and, when tee is set, the body) written.
type recorder struct {
	http.ResponseWriter
	status int
	tee    *bytes.Buffer
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.tee != nil {
		w.tee.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// sane request ids are accepted from the caller (the gateway's, say).
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,64}$`)

// observe is the outermost middleware: request id, the call, metrics, and
// a last-resort recover.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{requestID: r.Header.Get("X-Request-ID"), start: time.Now()}
		if !requestIDPattern.MatchString(c.requestID) {
			c.requestID = newRequestID()
		}
		w.Header().Set("X-Request-ID", c.requestID)
		rec := &recorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), callKey{}, c))
		defer s.count(r, rec, c.start)
		defer s.recoverPanic(rec, r)
		next.ServeHTTP(rec, r)
	})
}

// routePattern is the request's route pattern (/api/v1/sites/{site_id}),
// "" before routing or for no route.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}

// count records the request's metrics (deferred).
func (s *Server) count(r *http.Request, rec *recorder, start time.Time) {
	route := routePattern(r)
	if route == "" {
		route = "unmatched"
	}
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.code())).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

// recoverPanic answers 500 internal_error for a panic (deferred).
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared, as net/http does
		panic(p)
	}
	s.log.Error("api handler panicked", "component", "api", "request_id", callOf(r).requestID,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if rec, ok := w.(*recorder); ok && rec.status != 0 {
		return // too late for an error body
	}
	s.fail(w, r, errf(codeInternal, "internal error"))
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// audit writes one access row per call to an authenticated route, after
// the response, whatever its status (401, 403 and 429 included).
func (s *Server) audit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		c := callOf(r)
		next.ServeHTTP(rec, r)
		row := AccessRecord{
			Consumer: "unknown", Method: r.Method, Path: r.URL.Path, Route: routePattern(r),
			Status: rec.code(), RequestID: c.requestID, Duration: time.Since(c.start),
			Remote: r.RemoteAddr, Note: c.note, Tenant: c.tenant,
		}
		if c.authed {
			row.KeyID, row.Consumer = c.key.ID, c.key.Consumer
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if err := s.opts.Auditor.RecordAccess(ctx, row); err != nil {
			s.log.Warn("api audit row not written", "component", "api", "request_id", c.requestID, "err", err)
		}
	})
}
