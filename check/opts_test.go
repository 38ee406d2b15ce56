package check_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestNewValidatesOpts(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	badCert := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badCert, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		opts    check.Opts
		wantErr string // empty: valid
	}{
		"zero value":            {},
		"everything set":        {opts: check.Opts{CABundle: pki.bundle, DNSResolver: "127.0.0.1:53", SourceAddr: "127.0.0.2", MaxConns: 8}},
		"ipv6 resolver":         {opts: check.Opts{DNSResolver: "[::1]:5353"}},
		"negative timeout":      {opts: check.Opts{Timeout: -1}, wantErr: "timeout"},
		"negative max conns":    {opts: check.Opts{MaxConns: -1}, wantErr: "max conns"},
		"missing CA bundle":     {opts: check.Opts{CABundle: filepath.Join(dir, "missing.pem")}, wantErr: "ca bundle"},
		"CA bundle not PEM":     {opts: check.Opts{CABundle: notPEM}, wantErr: "no PEM certificates"},
		"CA bundle bad cert":    {opts: check.Opts{CABundle: badCert}, wantErr: "certificate 1"},
		"resolver without port": {opts: check.Opts{DNSResolver: "127.0.0.1"}, wantErr: "want ip:port"},
		"resolver host name":    {opts: check.Opts{DNSResolver: "dns.example:53"}, wantErr: "must be an IP"},
		"resolver port zero":    {opts: check.Opts{DNSResolver: "127.0.0.1:0"}, wantErr: "port must be"},
		"resolver port too big": {opts: check.Opts{DNSResolver: "127.0.0.1:70000"}, wantErr: "port must be"},
		"source not an IP":      {opts: check.Opts{SourceAddr: "eth0"}, wantErr: "source addr"},
		"source with a port":    {opts: check.Opts{SourceAddr: "127.0.0.2:80"}, wantErr: "source addr"},
		"source unspecified":    {opts: check.Opts{SourceAddr: "0.0.0.0"}, wantErr: "unicast"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := check.New(tt.opts)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr == "" && c == nil:
				t.Fatal("New returned nil Checker")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateSpec(t *testing.T) {
	t.Parallel()
	twenty := make([]string, uptime.MaxForbiddenKeywords)
	for i := range twenty {
		twenty[i] = strings.Repeat("k", i+1)
	}
	tests := map[string]struct {
		spec    uptime.CheckSpec
		wantErr string
	}{
		"minimal": {spec: uptime.CheckSpec{URL: "https://example.com"}},
		"typical": {spec: uptime.CheckSpec{
			URL: "http://example.com:8080/path?q=1", Keyword: "ok", ForbiddenKeywords: []string{"a", "", "b"},
			Headers: map[string]string{"X-Token": "a\tb"}, RedirectPolicy: uptime.RedirectAlert,
		}},
		"20 forbidden keywords of up to 500 bytes": {spec: uptime.CheckSpec{
			URL: "https://example.com", ForbiddenKeywords: append(twenty[:19:19], strings.Repeat("x", 500)),
		}},
		"empty forbidden entries do not count": {spec: uptime.CheckSpec{
			URL: "https://example.com", ForbiddenKeywords: append(append([]string{}, twenty...), "", ""),
		}},
		"no scheme":             {spec: uptime.CheckSpec{URL: "example.com"}, wantErr: "scheme"},
		"ftp":                   {spec: uptime.CheckSpec{URL: "ftp://example.com"}, wantErr: "scheme"},
		"no host":               {spec: uptime.CheckSpec{URL: "http:///path"}, wantErr: "no host"},
		"unparseable":           {spec: uptime.CheckSpec{URL: "http://[::1"}, wantErr: "url"},
		"unknown policy":        {spec: uptime.CheckSpec{URL: "http://a", RedirectPolicy: "sometimes"}, wantErr: "redirect policy"},
		"21 forbidden keywords": {spec: uptime.CheckSpec{URL: "http://a", ForbiddenKeywords: append(twenty, "z")}, wantErr: "at most 20"},
		"501-byte keyword": {
			spec: uptime.CheckSpec{URL: "http://a", ForbiddenKeywords: []string{strings.Repeat("x", 501)}}, wantErr: "at most 500",
		},
		"header name with space": {spec: uptime.CheckSpec{URL: "http://a", Headers: map[string]string{"X Bad": "v"}}, wantErr: "header name"},
		"header value newline":   {spec: uptime.CheckSpec{URL: "http://a", Headers: map[string]string{"X-A": "v\r\nX-B: w"}}, wantErr: "control character"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := check.ValidateSpec(tt.spec)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ValidateSpec: %v", err)
			case tt.wantErr != "" && (!errors.Is(err, check.ErrInvalidSpec) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ValidateSpec error = %v, want ErrInvalidSpec mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// An invalid spec is ErrorConnect and never touches the network.
func TestCheckInvalidSpecMakesNoConnection(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = conn.Close()
		}
	}()
	c := newChecker(t, check.Opts{})
	addr := ln.Addr().String()
	specs := map[string]uptime.CheckSpec{
		"ftp scheme":        {URL: "ftp://" + addr + "/"},
		"bad policy":        {URL: "http://" + addr + "/", RedirectPolicy: "bogus"},
		"bad header":        {URL: "http://" + addr + "/", Headers: map[string]string{"Bad Name": "x"}},
		"too many keywords": {URL: "http://" + addr + "/", ForbiddenKeywords: strings.Split(strings.Repeat("k,", 21), ",")},
	}
	for name, spec := range specs {
		res := c.Check(t.Context(), spec)
		if res.ErrorCode != uptime.ErrorConnect || res.Success || res.RTT != 0 || res.TCP != 0 {
			t.Errorf("%s: got code %v success %v RTT %v TCP %v, want ErrorConnect with no network", name, res.ErrorCode, res.Success, res.RTT, res.TCP)
		}
	}
	_ = ln.Close()
	<-done
	if n := accepted.Load(); n != 0 {
		t.Errorf("listener accepted %d connections, want 0", n)
	}
}
