package testsite

import (
	"context"
	"crypto/tls"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// siteHandler serves the sites. fixed is the site of a dedicated port; ""
// resolves the site from the request (path prefix, then Host).
func (f *Fleet) siteHandler(fixed string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site := fixed
		if site == "" {
			site = siteOf(r)
		}
		b := f.Behaviour(site)
		h := w.Header()
		h.Set("X-Testsite-Site", site)
		h.Set("X-Testsite-Behaviour", string(b.Kind))
		h.Set("Cache-Control", "no-store")
		if !serveConnection(w, r, site, b) {
			serveContent(w, r, site, b)
		}
	})
}

// siteOf resolves the site: "/s/<site>/..." first, then the Host header
// without port and ".test" suffix.
func siteOf(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/s/"); ok {
		if name, _, _ := strings.Cut(rest, "/"); name != "" {
			return NormalizeSite(name)
		}
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		return "default"
	}
	return NormalizeSite(host)
}

// serveConnection handles the behaviours that act on timing or on the
// connection itself; it reports whether it handled b.
func serveConnection(w http.ResponseWriter, r *http.Request, site string, b Behaviour) bool {
	switch b.Kind {
	case KindSlow:
		if sleep(r.Context(), b.Delay) {
			writePage(w, b.Status, site, b, "")
		}
	case KindHang:
		<-r.Context().Done()
	case KindHeadHang:
		if r.Method != http.MethodHead {
			return false
		}
		<-r.Context().Done()
	case KindClosed:
		hijackClose(w, false)
	case KindReset:
		hijackClose(w, true)
	case KindPartial:
		writePartial(w, site, b)
	default:
		return false
	}
	return true
}

// serveContent handles the behaviours that answer with a normal response.
func serveContent(w http.ResponseWriter, r *http.Request, site string, b Behaviour) {
	switch b.Kind {
	case KindStatus:
		writePage(w, b.Status, site, b, "")
	case KindRedirectLoop:
		redirect(w, r.URL.RequestURI())
	case KindRedirect:
		redirect(w, b.Location)
	case KindKeywordPresent, KindKeywordForbidden:
		writePage(w, http.StatusOK, site, b, b.Keyword)
	case KindKeywordMissing:
		writeWithout(w, site, b)
	case KindHead405:
		if r.Method == http.MethodHead {
			w.Header().Set("Allow", "GET")
			writePage(w, http.StatusMethodNotAllowed, site, b, "")
			return
		}
		writePage(w, http.StatusOK, site, b, "")
	case KindByClient:
		code, listed := b.statusFor(r.RemoteAddr)
		if !listed && b.Delay > 0 && !sleep(r.Context(), b.Delay) {
			return
		}
		writePage(w, code, site, b, "")
	default:
		writePage(w, http.StatusOK, site, b, "")
	}
}

// page is the HTML every answer carries; extra is inserted verbatim (the
// keyword behaviours need the exact bytes in the body).
func page(site string, b Behaviour, code int, extra string) string {
	kind := b.Kind
	if kind == "" {
		kind = KindOK
	}
	s := html.EscapeString(site)
	return fmt.Sprintf("<!doctype html>\n<html><head><title>testsite %s</title></head>\n"+
		"<body><h1>%s</h1><p>behaviour %s, status %d</p>\n<p>%s</p></body></html>\n",
		s, s, kind, code, extra)
}

func writePage(w http.ResponseWriter, code int, site string, b Behaviour, extra string) {
	writeBody(w, code, page(site, b, code, extra))
}

// writeWithout answers 200 with a page that does not contain b.Keyword
// (an empty body if the keyword is a piece of the page itself).
func writeWithout(w http.ResponseWriter, site string, b Behaviour) {
	body := page(site, b, http.StatusOK, "")
	if strings.Contains(body, b.Keyword) {
		body = ""
	}
	writeBody(w, http.StatusOK, body)
}

func writeBody(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

// statusFor is KindByClient's status for a client and whether the client
// is listed.
func (b Behaviour) statusFor(remoteAddr string) (int, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if code, ok := b.Clients[addr.Unmap().String()]; ok {
			return code, true
		}
	}
	return b.Status, false
}

// sleep waits d and reports whether it did (false: ctx ended first).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hijackClose takes the connection and closes it before any response byte;
// with reset, SO_LINGER 0 makes the close a TCP RST. Over TLS the raw
// connection is closed, so no close_notify alert precedes the RST.
func hijackClose(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // cannot hijack: abort is the closest
	}
	if tc, ok := conn.(*tls.Conn); ok && reset {
		conn = tc.NetConn()
	}
	if reset {
		setLingerZero(conn)
	}
	_ = conn.Close()
}

// setLingerZero finds the TCP connection under wrappers with NetConn().
func setLingerZero(c net.Conn) {
	for c != nil {
		if l, ok := c.(interface{ SetLinger(sec int) error }); ok {
			_ = l.SetLinger(0)
			return
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		c = u.NetConn()
	}
}

// writePartial sends headers declaring twice the body it then sends, and
// closes the connection.
func writePartial(w http.ResponseWriter, site string, b Behaviour) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer func() { _ = conn.Close() }()
	body := page(site, b, http.StatusOK, "")
	_, _ = fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"+
		"Content-Length: %d\r\nConnection: close\r\nX-Testsite-Site: %s\r\nX-Testsite-Behaviour: %s\r\n\r\n%s",
		2*len(body), headerSafe(site), KindPartial, body)
	_ = rw.Flush()
}

// headerSafe replaces bytes that could end a raw header line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
