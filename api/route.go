package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// apiPrefix is every route's path prefix.
const apiPrefix = "/api/v1"

// route is one entry of the declarative route table: the chi router, the
// middleware chain and the OpenAPI document are all built from these.
type route struct {
	method       string
	pattern      string       // below apiPrefix, chi syntax
	scope        uptime.Scope // "" for no authentication (health only)
	idempotent   bool         // accepts Idempotency-Key
	status       int          // the success status
	altStatus    int          // another status with the same body (send-test's 502), 0 for none
	operationID  string
	summary      string
	tag          string
	query        []param  // the query parameters the handler reads
	bodyOptional bool     // the request body may be empty
	ep           endpoint // the handler with its request and response types
}

// endpoint is a handler with its request and response types, built by
// handle so that the types documented are the types served.
type endpoint struct {
	req, resp reflect.Type // NoBody / NoContent for none
	serve     func(s *Server, rt *route, w http.ResponseWriter, r *http.Request) error
}

// NoBody is the request type of a route without a body ({} is accepted).
type NoBody struct{}

// NoContent is the response type of a 204 route.
type NoContent struct{}

// statusful is a response that chooses its own status (from the route's
// status and altStatus).
type statusful interface{ httpStatus(rt *route) int }

// handle adapts fn: it decodes the body strictly into Req, calls fn and
// writes its Resp with the route's status.
func handle[Req, Resp any](fn func(r *http.Request, in *Req) (Resp, error)) endpoint {
	return endpoint{
		req:  reflect.TypeFor[Req](),
		resp: reflect.TypeFor[Resp](),
		serve: func(s *Server, rt *route, w http.ResponseWriter, r *http.Request) error {
			in := new(Req)
			if r.Method == http.MethodPost || r.Method == http.MethodPatch {
				b, err := s.body(w, r)
				if err != nil {
					return err
				}
				if err := decodeStrict(b, in, rt.bodyOptional || reflect.TypeFor[Req]() == reflect.TypeFor[NoBody]()); err != nil {
					return err
				}
			}
			out, err := fn(r, in)
			if err != nil {
				return err
			}
			status := rt.status
			if sf, ok := any(out).(statusful); ok {
				status = sf.httpStatus(rt)
			}
			if rt.status == http.StatusNoContent {
				writeJSON(w, status, nil)
				return nil
			}
			writeJSON(w, status, out)
			return nil
		},
	}
}

// mount builds the router from the table.
func (s *Server) mount(table []route) (http.Handler, error) {
	r := chi.NewRouter()
	r.Use(s.observe)
	seen := map[string]bool{}
	for i := range table {
		rt := &table[i]
		if err := checkRoute(rt, seen); err != nil {
			return nil, err
		}
		r.Method(rt.method, apiPrefix+rt.pattern, s.chain(rt))
	}
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		s.fail(w, req, errf(codeEndpointNotFound, "no route for %s %s", req.Method, req.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		allow := allowed(r, req.URL.Path)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.fail(w, req, errf(codeMethodNotAllowed, "%s is not allowed on %s (allowed: %s)", req.Method, req.URL.Path, strings.Join(allow, ", ")))
	})
	return r, nil
}

// checkRoute rejects a malformed table entry (a programming error New
// reports rather than serving it).
func checkRoute(rt *route, seen map[string]bool) error {
	switch {
	case rt.operationID == "" || rt.summary == "" || rt.tag == "" || rt.status == 0 || rt.ep.serve == nil:
		return fmt.Errorf("route %s %s: operationId, summary, tag, status and handler are required", rt.method, rt.pattern)
	case seen[rt.operationID] || seen[rt.method+" "+rt.pattern]:
		return fmt.Errorf("route %s %s (%s): duplicate", rt.method, rt.pattern, rt.operationID)
	case rt.idempotent && rt.method != http.MethodPost:
		return fmt.Errorf("route %s %s: only POST routes are idempotent", rt.method, rt.pattern)
	}
	seen[rt.operationID], seen[rt.method+" "+rt.pattern] = true, true
	return nil
}

// chain is the route's middleware: audit → auth → rate limit → gateway
// tenant → idempotency → handler (health: the handler alone).
func (s *Server) chain(rt *route) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		if err := s.checkQuery(rt, r); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := rt.ep.serve(s, rt, w, r); err != nil {
			s.fail(w, r, err)
		}
	})
	if rt.scope == "" {
		return h
	}
	if rt.idempotent {
		h = s.idempotency(h)
	}
	h = s.tenantContext(h)
	h = s.rateLimit(h)
	h = s.authenticate(rt.scope)(h)
	return s.audit(h)
}

// allowed lists the methods routed for path.
func allowed(mux *chi.Mux, path string) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if mux.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
		}
	}
	return out
}
