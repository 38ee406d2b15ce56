package check

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// errRedirect is wrapped by every error the redirect policy stops a check
// with; classify maps it to ErrorRedirect.
var errRedirect = errors.New("redirect")

// redirects applies one check's redirect policy and counts followed hops.
type redirects struct {
	policy uptime.RedirectPolicy
	hops   int
}

// check is the http.Client CheckRedirect hook. via holds the requests
// already made, so len(via) is the number of the redirect being followed.
func (r *redirects) check(_ *http.Request, via []*http.Request) error {
	if r.policy == uptime.RedirectFail {
		return fmt.Errorf("%w refused by policy %q", errRedirect, r.policy)
	}
	if len(via) > uptime.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d hops", errRedirect, uptime.MaxRedirects)
	}
	r.hops = len(via)
	return nil
}

// changed reports whether policy alert followed at least one redirect.
func (r *redirects) changed() bool {
	return r.policy == uptime.RedirectAlert && r.hops > 0
}
