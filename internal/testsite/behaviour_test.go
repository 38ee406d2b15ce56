package testsite_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

func TestBehaviours(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{})
	short := client(200*time.Millisecond, nil, nil)
	tests := map[string]struct {
		b     testsite.Behaviour
		check func(t *testing.T, u string)
	}{
		"ok": {testsite.Behaviour{}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 200 || !contains(r.body, "behaviour ok") {
				t.Errorf("got %d %q, want 200 ok page", r.code, r.body)
			}
		}},
		"status": {testsite.Behaviour{Kind: testsite.KindStatus, Status: 503}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 503 {
				t.Errorf("got %d (%v), want 503", r.code, r.err)
			}
		}},
		"slow": {testsite.Behaviour{Kind: testsite.KindSlow, Delay: 150 * time.Millisecond}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 200 || r.duration < 150*time.Millisecond {
				t.Errorf("got %d after %s, want 200 after >= 150ms", r.code, r.duration)
			}
		}},
		"slow-client-gives-up": {testsite.Behaviour{Kind: testsite.KindSlow, Delay: time.Minute}, func(t *testing.T, u string) {
			if r := do(t, short, http.MethodGet, u, ""); !isTimeout(r.err) {
				t.Errorf("got %d %v, want a client timeout", r.code, r.err)
			}
		}},
		"hang": {testsite.Behaviour{Kind: testsite.KindHang}, func(t *testing.T, u string) {
			if r := do(t, short, http.MethodGet, u, ""); !isTimeout(r.err) {
				t.Errorf("got %d %v, want a client timeout", r.code, r.err)
			}
		}},
		"closed": {testsite.Behaviour{Kind: testsite.KindClosed}, func(t *testing.T, u string) {
			data, err := raw(t, hostOf(t, u), pathOf(t, u))
			if err != nil || data != "" {
				t.Errorf("raw read %q, %v; want a clean close before any byte", data, err)
			}
			if r := get(t, u); !errors.Is(r.err, io.EOF) {
				t.Errorf("client got %d %v, want EOF", r.code, r.err)
			}
		}},
		"reset": {testsite.Behaviour{Kind: testsite.KindReset}, func(t *testing.T, u string) {
			if data, err := raw(t, hostOf(t, u), pathOf(t, u)); !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("raw read %q, %v; want ECONNRESET", data, err)
			}
		}},
		"partial": {testsite.Behaviour{Kind: testsite.KindPartial}, func(t *testing.T, u string) {
			r := get(t, u)
			if r.code != 200 || !errors.Is(r.bodyErr, io.ErrUnexpectedEOF) {
				t.Errorf("got %d, body error %v; want 200 then unexpected EOF", r.code, r.bodyErr)
			}
		}},
		"redirect-loop": {testsite.Behaviour{Kind: testsite.KindRedirectLoop}, func(t *testing.T, u string) {
			if r := get(t, u); r.err == nil || !contains(r.err.Error(), "stopped after 10 redirects") {
				t.Errorf("got %d %v, want the client to give up after 10 redirects", r.code, r.err)
			}
			c := client(5*time.Second, nil, nil)
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			r := do(t, c, http.MethodGet, u, "")
			if r.code != 302 || r.header.Get("Location") != pathOf(t, u) {
				t.Errorf("got %d Location %q, want 302 to %q", r.code, r.header.Get("Location"), pathOf(t, u))
			}
		}},
		"redirect": {testsite.Behaviour{Kind: testsite.KindRedirect, Location: "/s/elsewhere/"}, func(t *testing.T, u string) {
			r := get(t, u)
			if r.code != 200 || r.header.Get("X-Testsite-Site") != "elsewhere" {
				t.Errorf("got %d site %q, want 200 from site elsewhere", r.code, r.header.Get("X-Testsite-Site"))
			}
		}},
		"keyword-present": {testsite.Behaviour{Kind: testsite.KindKeywordPresent, Keyword: "welcome"}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 200 || !contains(r.body, "welcome") {
				t.Errorf("got %d %q, want 200 containing welcome", r.code, r.body)
			}
		}},
		"keyword-missing": {testsite.Behaviour{Kind: testsite.KindKeywordMissing, Keyword: "welcome"}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 200 || contains(r.body, "welcome") || r.body == "" {
				t.Errorf("got %d %q, want 200 with a page lacking welcome", r.code, r.body)
			}
		}},
		"keyword-missing-in-page": {testsite.Behaviour{Kind: testsite.KindKeywordMissing, Keyword: "html"}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 200 || contains(r.body, "html") {
				t.Errorf("got %d %q, want 200 without html", r.code, r.body)
			}
		}},
		"keyword-forbidden": {testsite.Behaviour{Kind: testsite.KindKeywordForbidden, Keyword: "hacked"}, func(t *testing.T, u string) {
			if r := get(t, u); r.code != 200 || !contains(r.body, "hacked") {
				t.Errorf("got %d %q, want 200 containing hacked", r.code, r.body)
			}
		}},
		"head-405": {testsite.Behaviour{Kind: testsite.KindHead405}, func(t *testing.T, u string) {
			c := client(5*time.Second, nil, nil)
			head, getr := do(t, c, http.MethodHead, u, ""), do(t, c, http.MethodGet, u, "")
			if head.code != 405 || getr.code != 200 {
				t.Errorf("HEAD %d GET %d, want 405 and 200", head.code, getr.code)
			}
		}},
		"head-hang": {testsite.Behaviour{Kind: testsite.KindHeadHang}, func(t *testing.T, u string) {
			if r := do(t, short, http.MethodHead, u, ""); !isTimeout(r.err) {
				t.Errorf("HEAD got %d %v, want a client timeout", r.code, r.err)
			}
			if r := get(t, u); r.code != 200 {
				t.Errorf("GET got %d %v, want 200", r.code, r.err)
			}
		}},
		"by-client": {testsite.Behaviour{Kind: testsite.KindByClient, Clients: map[string]int{"127.0.0.2": 200}}, func(t *testing.T, u string) {
			from2 := do(t, client(5*time.Second, net.IPv4(127, 0, 0, 2), nil), http.MethodGet, u, "")
			from1 := do(t, client(5*time.Second, net.IPv4(127, 0, 0, 1), nil), http.MethodGet, u, "")
			if from2.code != 200 || from1.code != 503 {
				t.Errorf("from 127.0.0.2 %d (%v), from 127.0.0.1 %d (%v); want 200 and 503",
					from2.code, from2.err, from1.code, from1.err)
			}
		}},
		"by-client-delay": {testsite.Behaviour{Kind: testsite.KindByClient, Clients: map[string]int{"127.0.0.2": 503},
			Status: 200, Delay: time.Minute}, func(t *testing.T, u string) {
			listed := do(t, client(5*time.Second, net.IPv4(127, 0, 0, 2), nil), http.MethodGet, u, "")
			other := do(t, client(200*time.Millisecond, net.IPv4(127, 0, 0, 1), nil), http.MethodGet, u, "")
			if listed.code != 503 || !isTimeout(other.err) {
				t.Errorf("listed client %d (%v), other client %d (%v); want 503 at once and a timeout",
					listed.code, listed.err, other.code, other.err)
			}
		}},
		"by-client-delay-answers": {testsite.Behaviour{Kind: testsite.KindByClient, Status: 200, Delay: 150 * time.Millisecond},
			func(t *testing.T, u string) {
				if r := get(t, u); r.code != 200 || r.duration < 150*time.Millisecond {
					t.Errorf("got %d after %s, want 200 after >= 150ms", r.code, r.duration)
				}
			}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mustSet(t, f, name, tt.b)
			tt.check(t, f.URL(name))
		})
	}
}

func TestSiteAddressing(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{})
	mustSet(t, f, "shop", testsite.Behaviour{Kind: testsite.KindStatus, Status: 502})
	base := "http://" + f.Addr()
	tests := map[string]struct {
		url, host string
		want      int
	}{
		"path form":            {base + "/s/shop/cart?x=1", "", 502},
		"path form upper case": {base + "/s/SHOP/", "", 502},
		"host form":            {base + "/cart", "shop.test", 502},
		"host form with port":  {base + "/", "shop.test:8081", 502},
		"bare host":            {base + "/", "shop", 502},
		"path beats host":      {base + "/s/other/", "shop.test", 200},
		"other host":           {base + "/", "other.test", 200},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := do(t, client(5*time.Second, nil, nil), http.MethodGet, tt.url, tt.host)
			if r.code != tt.want {
				t.Errorf("got %d (%v), want %d", r.code, r.err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      testsite.Behaviour
		want    testsite.Behaviour
		wantErr bool
	}{
		"zero is ok":          {in: testsite.Behaviour{}, want: testsite.Behaviour{Kind: testsite.KindOK}},
		"unused fields drop":  {in: testsite.Behaviour{Kind: testsite.KindHang, Status: 500}, want: testsite.Behaviour{Kind: testsite.KindHang}},
		"slow defaults 200":   {in: testsite.Behaviour{Kind: testsite.KindSlow, Delay: time.Second}, want: testsite.Behaviour{Kind: testsite.KindSlow, Delay: time.Second, Status: 200}},
		"keyword default":     {in: testsite.Behaviour{Kind: testsite.KindKeywordMissing}, want: testsite.Behaviour{Kind: testsite.KindKeywordMissing, Keyword: testsite.DefaultKeyword}},
		"status out of range": {in: testsite.Behaviour{Kind: testsite.KindStatus, Status: 99}, wantErr: true},
		"slow without delay":  {in: testsite.Behaviour{Kind: testsite.KindSlow}, wantErr: true},
		"slow too long":       {in: testsite.Behaviour{Kind: testsite.KindSlow, Delay: time.Hour}, wantErr: true},
		"relative location":   {in: testsite.Behaviour{Kind: testsite.KindRedirect, Location: "elsewhere"}, wantErr: true},
		"bad client ip":       {in: testsite.Behaviour{Kind: testsite.KindByClient, Clients: map[string]int{"nope": 200}}, wantErr: true},
		"bad client status":   {in: testsite.Behaviour{Kind: testsite.KindByClient, Clients: map[string]int{"::1": 700}}, wantErr: true},
		"by_client keeps delay": {in: testsite.Behaviour{Kind: testsite.KindByClient, Delay: time.Second},
			want: testsite.Behaviour{Kind: testsite.KindByClient, Status: 503, Delay: time.Second}},
		"by_client negative delay": {in: testsite.Behaviour{Kind: testsite.KindByClient, Delay: -time.Second}, wantErr: true},
		"by_client delay too long": {in: testsite.Behaviour{Kind: testsite.KindByClient, Delay: time.Hour}, wantErr: true},
		"unknown kind":             {in: testsite.Behaviour{Kind: "explode"}, wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.in.Validate()
			if tt.wantErr {
				if !errors.Is(err, testsite.ErrInvalid) {
					t.Errorf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || got.Kind != tt.want.Kind || got.Status != tt.want.Status ||
				got.Delay != tt.want.Delay || got.Keyword != tt.want.Keyword {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestByClientCanonicalAddresses(t *testing.T) {
	t.Parallel()
	got, err := testsite.Behaviour{Kind: testsite.KindByClient, Clients: map[string]int{"::ffff:127.0.0.2": 200}}.Validate()
	if err != nil || got.Clients["127.0.0.2"] != 200 || got.Status != 503 {
		t.Errorf("got %+v, %v; want 127.0.0.2 -> 200, default 503", got, err)
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u.Host
}

func pathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u.RequestURI()
}
