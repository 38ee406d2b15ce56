package api

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// paramKind is a query parameter's type, for parsing and the document.
type paramKind int

const (
	kindString paramKind = iota
	kindInt
	kindBool
	kindTime
	kindCSV
)

// param is one documented query parameter.
type param struct {
	name string
	kind paramKind
	doc  string
	enum []string // allowed values (each CSV item for kindCSV)
}

// pageParams are the pagination parameters of a list whose default page
// size is def.
func (s *Server) pageParams(def int) []param {
	return []param{
		{name: "limit", kind: kindInt, doc: fmt.Sprintf("page size (default %d; larger values are clamped to %d)", def, s.opts.Limits.MaxPageSize)},
		{name: "cursor", kind: kindString, doc: "opaque cursor from page.next of the previous page"},
	}
}

// checkQuery rejects query parameters the route does not document.
func (s *Server) checkQuery(rt *route, r *http.Request) error {
	for name := range r.URL.Query() {
		known := false
		for _, p := range rt.query {
			known = known || p.name == name
		}
		if !known {
			return fieldErr(codeInvalidQuery, name, "unknown query parameter")
		}
	}
	return nil
}

// pathID parses the positive int64 path parameter name; its error code is
// invalid_<name> (invalid_site_id, invalid_event_id, ...).
func pathID(r *http.Request, name string) (int64, error) {
	v := chi.URLParam(r, name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, fieldErr(ErrorCode("invalid_"+name), name, "must be a positive integer, got %q", v)
	}
	return id, nil
}

// visible reads the row named by the path parameter param as the caller's
// tenant sees it: get's ErrNotFound is notFound.
func visible[T any](r *http.Request, param string, notFound ErrorCode,
	get func(ctx context.Context, id int64, t Tenant) (T, error)) (T, error) {
	var zero T
	id, err := pathID(r, param)
	if err != nil {
		return zero, err
	}
	v, err := get(r.Context(), id, callOf(r).tenant)
	if err != nil {
		return zero, storeErr(err, notFound)
	}
	return v, nil
}

// queryBool parses true/1/false/0; nil when absent.
func queryBool(r *http.Request, name string, code ErrorCode) (*bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "":
		return nil, nil
	case "true", "1":
		return ptr(true), nil
	case "false", "0":
		return ptr(false), nil
	default:
		return nil, fieldErr(code, name, "must be true, false, 1 or 0, got %q", v)
	}
}

// queryTime parses an RFC 3339 time; zero when absent.
func queryTime(r *http.Request, name string, code ErrorCode) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fieldErr(code, name, "must be an RFC 3339 time, got %q", v)
	}
	return t.UTC(), nil
}

// queryList is a single value (name) or a comma-separated list
// (name__in); both at once is an error.
func queryList(r *http.Request, name string, code ErrorCode) ([]string, error) {
	q := r.URL.Query()
	one, many := q.Get(name), q.Get(name+"__in")
	switch {
	case one != "" && many != "":
		return nil, fieldErr(code, name, "give %s or %s__in, not both", name, name)
	case one != "":
		return []string{one}, nil
	case many != "":
		var out []string
		for _, v := range strings.Split(many, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out, nil
	default:
		return nil, nil
	}
}

// pageReq is a list request's position.
type pageReq struct {
	limit int
	after int64 // the cursor's id (0: the first page)
}

// Page is the list envelope's position.
type Page struct {
	Next  *string `json:"next" doc:"cursor of the next page; null on the last page"`
	Limit int     `json:"limit" doc:"the page size applied"`
}

// List is the envelope of every list response.
type List[T any] struct {
	Data []T  `json:"data"`
	Page Page `json:"page"`
}

// cursorWire is what a cursor encodes: the list it belongs to and the last
// id of the page.
type cursorWire struct {
	List string `json:"l"`
	ID   int64  `json:"id"`
}

// page parses limit and cursor for the list named list.
func (s *Server) page(r *http.Request, list string, defaultLimit int) (pageReq, error) {
	p := pageReq{limit: defaultLimit}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pageReq{}, fieldErr(codeInvalidLimit, "limit", "must be an integer >= 1, got %q", v)
		}
		p.limit = min(n, s.opts.Limits.MaxPageSize)
	}
	if v := q.Get("cursor"); v != "" {
		var c cursorWire
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || json.Unmarshal(b, &c) != nil || c.List != list || c.ID < 1 {
			return pageReq{}, fieldErr(codeInvalidCursor, "cursor", "not a cursor of this list")
		}
		p.after = c.ID
	}
	return p, nil
}

// nextCursor is the cursor after id in list, or nil when more is false.
func nextCursor(list string, id int64, more bool) *string {
	if !more {
		return nil
	}
	b, _ := json.Marshal(cursorWire{List: list, ID: id})
	c := base64.RawURLEncoding.EncodeToString(b)
	return &c
}

// paginate cuts rows (fetched with limit+1) to a page and its envelope;
// idOf gives a row's cursor id.
func paginate[T, W any](rows []T, p pageReq, list string, idOf func(T) int64, wire func(T) W) List[W] {
	more := len(rows) > p.limit
	if more {
		rows = rows[:p.limit]
	}
	out := List[W]{Data: make([]W, 0, len(rows)), Page: Page{Limit: p.limit}}
	for _, row := range rows {
		out.Data = append(out.Data, wire(row))
	}
	if len(rows) > 0 {
		out.Page.Next = nextCursor(list, idOf(rows[len(rows)-1]), more)
	}
	return out
}

// pageOf pages an unpaginated store list in memory, in id order (webhooks
// and alert contacts are few; the cursor is the same opaque kind).
func pageOf[T, W any](rows []T, p pageReq, list string, idOf func(T) int64, wire func(T) W) List[W] {
	slices.SortFunc(rows, func(a, b T) int { return cmp.Compare(idOf(a), idOf(b)) })
	start, _ := slices.BinarySearchFunc(rows, p.after+1, func(row T, id int64) int { return cmp.Compare(idOf(row), id) })
	rows = rows[start:]
	return paginate(rows[:min(len(rows), p.limit+1)], p, list, idOf, wire)
}
