package uptime_test

import (
	"slices"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestIsFailureAndStatusType(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		r       uptime.Result
		failure bool
		status  string
	}{
		"200":                        {uptime.Result{Success: true, HTTPCode: 200}, false, "success"},
		"deprecated tls is advisory": {uptime.Result{Success: true, HTTPCode: 200, ErrorCode: uptime.ErrorTLSDeprecated}, false, "success"},
		"success with keyword error": {uptime.Result{Success: true, HTTPCode: 200, ErrorCode: uptime.ErrorKeyword}, true, "success"},
		"ssl":                        {uptime.Result{ErrorCode: uptime.ErrorSSL}, true, "https"},
		"tls expired":                {uptime.Result{HTTPCode: 200, ErrorCode: uptime.ErrorTLSExpired}, true, "https"},
		"timeout":                    {uptime.Result{ErrorCode: uptime.ErrorTimeout}, true, "intermittent"},
		"body read":                  {uptime.Result{HTTPCode: 200, ErrorCode: uptime.ErrorBodyRead}, true, "intermittent"},
		"redirect":                   {uptime.Result{ErrorCode: uptime.ErrorRedirect}, true, "redirect"},
		"403":                        {uptime.Result{HTTPCode: 403}, true, "blocked"},
		"503":                        {uptime.Result{HTTPCode: 503}, true, "server"},
		"404":                        {uptime.Result{HTTPCode: 404}, true, "client"},
		"connect":                    {uptime.Result{ErrorCode: uptime.ErrorConnect}, true, "intermittent"},
		"keyword on 200":             {uptime.Result{HTTPCode: 200, ErrorCode: uptime.ErrorKeyword}, true, "intermittent"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.r.IsFailure(); got != tc.failure {
				t.Errorf("IsFailure = %v, want %v", got, tc.failure)
			}
			if got := tc.r.StatusType(); got != tc.status {
				t.Errorf("StatusType = %q, want %q", got, tc.status)
			}
		})
	}
}

func TestErrorCodeNames(t *testing.T) {
	t.Parallel()
	want := []string{"none", "timeout", "connect", "ssl", "redirect", "keyword", "tls_expired", "tls_deprecated", "body_read"}
	for code, name := range want {
		if got := uptime.ErrorCode(code).String(); got != name {
			t.Errorf("ErrorCode(%d) = %q, want %q (Jetmon's numbering must not change)", code, got, name)
		}
	}
	if got := uptime.ErrorCode(42).String(); got != "error_42" {
		t.Errorf("unknown code = %q", got)
	}
}

func TestParseRedirectPolicy(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want uptime.RedirectPolicy
		ok   bool
	}{
		"empty is follow": {"", uptime.RedirectFollow, true},
		"alert":           {"alert", uptime.RedirectAlert, true},
		"fail":            {"fail", uptime.RedirectFail, true},
		"unknown":         {"sometimes", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := uptime.ParseRedirectPolicy(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseRedirectPolicy(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

func TestAssignment(t *testing.T) {
	t.Parallel()
	a := uptime.Assignment{Ranges: []uptime.BucketRange{{Min: 2, Max: 4}, {Min: 9, Max: 9}}}
	if got := a.Buckets(); !slices.Equal(got, []int{2, 3, 4, 9}) {
		t.Errorf("Buckets = %v", got)
	}
	for bucket, owned := range map[int]bool{1: false, 2: true, 4: true, 5: false, 9: true, 10: false} {
		if a.Owns(bucket) != owned {
			t.Errorf("Owns(%d) = %v", bucket, !owned)
		}
	}
	if (uptime.BucketRange{Min: 3, Max: 7}).Len() != 5 {
		t.Error("Len of 3-7 must be 5")
	}
}
