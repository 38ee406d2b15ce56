package check

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ErrInvalidSpec is wrapped by every error ValidateSpec returns.
var ErrInvalidSpec = errors.New("invalid check spec")

// plan is a validated CheckSpec in the form Check needs.
type plan struct {
	url       *url.URL
	timeout   time.Duration
	policy    uptime.RedirectPolicy
	required  string
	forbidden []string // non-empty entries only
}

// ValidateSpec reports whether Check can run spec. Check runs the same
// validation and turns a failure into ErrorConnect without network activity;
// callers that store specs (API, coordinator) should reject them earlier.
//
// Rules: the URL is absolute http(s) with a host; the redirect policy is
// empty, follow, alert or fail; at most uptime.MaxForbiddenKeywords non-empty
// forbidden keywords (empty entries are ignored), each at most
// uptime.MaxKeywordLengthBytes long; header names are HTTP tokens and header
// values contain no control characters other than tab.
func ValidateSpec(spec uptime.CheckSpec) error {
	_, err := newPlan(spec, DefaultTimeout)
	return err
}

func newPlan(spec uptime.CheckSpec, defaultTimeout time.Duration) (plan, error) {
	p := plan{timeout: spec.Timeout, required: spec.Keyword}
	if p.timeout <= 0 {
		p.timeout = defaultTimeout
	}
	var err error
	if p.url, err = parseTarget(spec.URL); err != nil {
		return p, err
	}
	if p.policy, err = uptime.ParseRedirectPolicy(string(spec.RedirectPolicy)); err != nil {
		return p, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if p.forbidden, err = forbiddenKeywords(spec.ForbiddenKeywords); err != nil {
		return p, err
	}
	for name, value := range spec.Headers {
		if err := validHeader(name, value); err != nil {
			return p, err
		}
	}
	return p, nil
}

func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: url: %w", ErrInvalidSpec, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: url %q: scheme must be http or https", ErrInvalidSpec, raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: url %q: no host", ErrInvalidSpec, raw)
	}
	return u, nil
}

func forbiddenKeywords(all []string) ([]string, error) {
	var kept []string
	for _, k := range all {
		if k == "" {
			continue
		}
		if len(k) > uptime.MaxKeywordLengthBytes {
			return nil, fmt.Errorf("%w: forbidden keyword of %d bytes: at most %d",
				ErrInvalidSpec, len(k), uptime.MaxKeywordLengthBytes)
		}
		kept = append(kept, k)
	}
	if len(kept) > uptime.MaxForbiddenKeywords {
		return nil, fmt.Errorf("%w: %d forbidden keywords: at most %d",
			ErrInvalidSpec, len(kept), uptime.MaxForbiddenKeywords)
	}
	return kept, nil
}

func validHeader(name, value string) error {
	if name == "" || strings.IndexFunc(name, notTokenChar) >= 0 {
		return fmt.Errorf("%w: header name %q: not an HTTP token", ErrInvalidSpec, name)
	}
	if strings.IndexFunc(value, func(r rune) bool { return r != '\t' && (r < ' ' || r == 0x7f) }) >= 0 {
		return fmt.Errorf("%w: header %q: value contains a control character", ErrInvalidSpec, name)
	}
	return nil
}

// notTokenChar reports a rune outside RFC 9110's tchar set.
func notTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	default:
		return !strings.ContainsRune("!#$%&'*+-.^_`|~", r)
	}
}
