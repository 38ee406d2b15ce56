package testsite

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Kind names a site behaviour. The values are the control API's
// "behaviour" field.
type Kind string

// Behaviours. Unless stated otherwise, HEAD is answered like GET without a
// body.
const (
	// KindOK answers 200 with a small HTML page.
	KindOK Kind = "ok"
	// KindStatus answers Behaviour.Status with the same page.
	KindStatus Kind = "status"
	// KindSlow waits Behaviour.Delay before sending headers (Status, 200 when
	// zero), and gives up when the client does.
	KindSlow Kind = "slow"
	// KindHang never answers; the handler returns when the client gives up
	// or the fleet stops.
	KindHang Kind = "hang"
	// KindClosed refuses connections on the site's dedicated port (the port
	// stops listening); on shared listeners it hijacks the connection and
	// closes it before any response byte.
	KindClosed Kind = "closed"
	// KindReset hijacks the connection and closes it with SO_LINGER 0, so
	// the client reads a TCP RST.
	KindReset Kind = "reset"
	// KindPartial declares a Content-Length twice the bytes it sends, then
	// closes the connection.
	KindPartial Kind = "partial"
	// KindRedirectLoop answers 302 to the request's own URL, forever.
	KindRedirectLoop Kind = "redirect_loop"
	// KindRedirect answers 302 to Behaviour.Location.
	KindRedirect Kind = "redirect"
	// KindKeywordPresent answers 200 with Behaviour.Keyword in the body.
	KindKeywordPresent Kind = "keyword_present"
	// KindKeywordMissing answers 200 with a body that does not contain
	// Behaviour.Keyword.
	KindKeywordMissing Kind = "keyword_missing"
	// KindKeywordForbidden answers 200 with Behaviour.Keyword (the forbidden
	// word, say "hacked") in the body.
	KindKeywordForbidden Kind = "keyword_forbidden"
	// KindHead405 answers HEAD with 405 and GET with 200.
	KindHead405 Kind = "head_405"
	// KindHeadHang never answers HEAD and answers GET with 200.
	KindHeadHang Kind = "head_hang"
	// KindByClient answers Behaviour.Clients[client IP] at once, or Status
	// (503 when zero) for clients not listed, after Behaviour.Delay when set:
	// a site that is down (or slow, or both) for everyone but the listed
	// clients.
	KindByClient Kind = "by_client"
)

// DefaultKeyword is the word keyword behaviours use when Behaviour.Keyword
// is empty.
const DefaultKeyword = "testsite-keyword"

// MaxDelay bounds KindSlow's delay so a typo cannot pin a handler for days.
const MaxDelay = 10 * time.Minute

// Behaviour is what one site does. The zero value is KindOK.
type Behaviour struct {
	Kind     Kind
	Status   int            // KindStatus: the code; KindSlow: the code after the delay; KindByClient: the default
	Delay    time.Duration  // KindSlow; KindByClient: before answering clients not listed (0: none)
	Keyword  string         // keyword kinds; DefaultKeyword when empty
	Location string         // KindRedirect: absolute URL or absolute path
	Clients  map[string]int // KindByClient: client IP address to status code
}

// ErrInvalid wraps every behaviour and site-name validation error.
var ErrInvalid = errors.New("invalid")

// siteName is what the control API and Set accept as a site name: a host
// label or dotted name, an IP address, or a simple identifier.
var siteName = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_.:-]{0,252})$`)

// ValidateSite reports whether name can be used with Set and the control
// API. Names are case-insensitive: callers should pass them through
// [NormalizeSite].
func ValidateSite(name string) error {
	if !siteName.MatchString(name) {
		return fmt.Errorf("site %q: %w: want 1-253 of [a-z0-9_.:-]", name, ErrInvalid)
	}
	return nil
}

// NormalizeSite lower-cases a site name and drops a trailing dot and a
// ".test" suffix, so "Shop.test." and "shop" name the same site.
func NormalizeSite(name string) string {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if trimmed := strings.TrimSuffix(name, ".test"); trimmed != "" {
		return trimmed
	}
	return name
}

// Validate checks the fields the kind needs and returns the behaviour in
// canonical form: defaults applied (Kind, Status for slow and by_client,
// Keyword), client addresses canonical, and fields the kind does not use
// zeroed. The returned value shares no map with b.
func (b Behaviour) Validate() (Behaviour, error) {
	c := Behaviour{Kind: b.Kind}
	switch b.Kind {
	case "":
		c.Kind = KindOK
	case KindOK, KindHang, KindClosed, KindReset, KindPartial, KindRedirectLoop,
		KindHead405, KindHeadHang:
	case KindStatus:
		c.Status = b.Status
		return c, validStatus("status", b.Status)
	case KindSlow:
		return validateSlow(b)
	case KindRedirect:
		c.Location = b.Location
		return c, validLocation(b.Location)
	case KindKeywordPresent, KindKeywordMissing, KindKeywordForbidden:
		c.Keyword = cmp.Or(b.Keyword, DefaultKeyword)
	case KindByClient:
		return validateByClient(b)
	default:
		return c, fmt.Errorf("behaviour %q: %w: unknown", b.Kind, ErrInvalid)
	}
	return c, nil
}

func validateSlow(b Behaviour) (Behaviour, error) {
	c := Behaviour{Kind: KindSlow, Delay: b.Delay, Status: cmp.Or(b.Status, 200)}
	if b.Delay <= 0 || b.Delay > MaxDelay {
		return c, fmt.Errorf("delay %s: %w: want (0, %s]", b.Delay, ErrInvalid, MaxDelay)
	}
	return c, validStatus("status", c.Status)
}

func validateByClient(b Behaviour) (Behaviour, error) {
	c := Behaviour{Kind: KindByClient, Status: cmp.Or(b.Status, 503), Delay: b.Delay,
		Clients: make(map[string]int, len(b.Clients))}
	if err := validStatus("status", c.Status); err != nil {
		return c, err
	}
	if b.Delay < 0 || b.Delay > MaxDelay {
		return c, fmt.Errorf("delay %s: %w: want [0, %s]", b.Delay, ErrInvalid, MaxDelay)
	}
	for ip, code := range b.Clients {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return c, fmt.Errorf("client %q: %w: not an IP address", ip, ErrInvalid)
		}
		if err := validStatus("client "+ip, code); err != nil {
			return c, err
		}
		c.Clients[addr.Unmap().String()] = code
	}
	return c, nil
}

func validStatus(what string, code int) error {
	if code < 200 || code > 599 {
		return fmt.Errorf("%s %d: %w: want 200-599", what, code, ErrInvalid)
	}
	return nil
}

func validLocation(loc string) error {
	u, err := url.Parse(loc)
	if err != nil || loc == "" || (!u.IsAbs() && !strings.HasPrefix(loc, "/")) {
		return fmt.Errorf("location %q: %w: want an absolute URL or path", loc, ErrInvalid)
	}
	return nil
}

// TLSVariant names a certificate/protocol setup of the TLS listeners.
type TLSVariant string

// TLS variants. Each is reachable by SNI "<variant>.tls.test" on the shared
// TLS listener and on its own port.
const (
	TLSValid      TLSVariant = "valid"       // CA-signed, covers localhost, *.test, *.tls.test, loopback IPs
	TLSExpired    TLSVariant = "expired"     // CA-signed, NotAfter a day ago
	TLSSelfSigned TLSVariant = "self-signed" // not signed by the CA
	TLSWrongHost  TLSVariant = "wrong-host"  // CA-signed for wrong-host.invalid only
	TLS11         TLSVariant = "tls11"       // valid certificate, TLS 1.0-1.1 only
	// TLSExpiringSoon is CA-signed like valid, with NotAfter
	// ExpiringSoonAfter after the fleet was created: a certificate a
	// monitor should warn about (a Degraded tls_expiry advisory), while
	// every check of it succeeds.
	TLSExpiringSoon TLSVariant = "expiring-soon"
)

// ExpiringSoonAfter is how long after New the expiring-soon certificate
// expires: five days and an hour, so that whole days until expiry (floor of
// hours / 24) read 5 for the fleet's first hour.
const ExpiringSoonAfter = 5*24*time.Hour + time.Hour

// TLSVariants returns every variant, in the order of their dedicated ports.
func TLSVariants() []TLSVariant {
	return []TLSVariant{TLSValid, TLSExpired, TLSSelfSigned, TLSWrongHost, TLS11, TLSExpiringSoon}
}
