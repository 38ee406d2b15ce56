package testsite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8081"
	DefaultShutdownTimeout = 5 * time.Second
)

// ControlPrefix is the path prefix of the control API.
const ControlPrefix = "/_control/"

// ErrStopped is returned by WaitReady when Run ended without becoming
// ready, and by a second call to Run.
var ErrStopped = errors.New("testsite stopped")

// Opts configures a Fleet. Addresses are host:port; port 0 picks a free port.
type Opts struct {
	// Addr is the main plain-HTTP listener (DefaultAddr when empty).
	Addr string
	// ControlAddr, when set, serves the control API (under ControlPrefix) on
	// its own listener only. Empty: the control API is mounted at
	// ControlPrefix on every shared listener (Addr, ExtraAddrs, TLS), for
	// any Host.
	ControlAddr string
	// TLSAddr is the shared HTTPS listener, which picks the variant by SNI
	// "<variant>.tls.test" (valid for any other name). Each variant is also
	// served on its own port: TLSAddr's port + 1 + its index in TLSVariants()
	// when that port is fixed, a random port when it is 0. Empty: no TLS.
	TLSAddr string
	// ExtraAddrs are more listeners serving the same sites as Addr (say
	// other loopback addresses, or many ports for benchmarks).
	ExtraAddrs []string
	// SiteAddrs gives sites a dedicated port (site name to address) serving
	// only that site; under KindClosed the port stops listening.
	SiteAddrs map[string]string
	// CADir, when set, is where Run writes ca.pem (for CA_BUNDLE).
	CADir string
	// ShutdownTimeout bounds draining on cancel (DefaultShutdownTimeout when zero).
	ShutdownTimeout time.Duration
	// Logger receives startup and behaviour-change lines (discarded when nil).
	Logger *slog.Logger
}

// Info is where a running fleet listens. URLs use a loopback host when a
// listener is bound to an unspecified address.
type Info struct {
	Addr            string                `json:"addr"`
	ExtraAddrs      []string              `json:"extra_addrs,omitempty"`
	ControlURL      string                `json:"control_url"`
	TLSAddr         string                `json:"tls_addr,omitempty"`
	TLSVariantAddrs map[TLSVariant]string `json:"tls_variant_addrs,omitempty"`
	SiteAddrs       map[string]string     `json:"site_addrs,omitempty"`
	CAFile          string                `json:"ca_file,omitempty"`
}

// Fleet is the target fleet. Create it with New and serve it with Run; the
// behaviour methods are safe for concurrent use, before and during Run.
type Fleet struct {
	opts  Opts
	log   *slog.Logger
	certs *certSet

	setMu sync.Mutex // serialises Set/Reset so a dedicated port follows the last call

	mu      sync.Mutex
	sites   map[string]Behaviour
	ports   map[string]*switchListener // during Run
	info    Info
	started bool
	runErr  error

	ready chan struct{} // closed once listening
	done  chan struct{} // closed when Run returns
}

// New validates opts and generates the CA and certificates in memory. It
// does no network or disk I/O.
func New(opts Opts) (*Fleet, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := validateOpts(opts); err != nil {
		return nil, err
	}
	certs, err := newCertSet(time.Now(), certIPs(opts.TLSAddr))
	if err != nil {
		return nil, fmt.Errorf("testsite CA: %w", err)
	}
	sites := make(map[string]Behaviour, len(opts.SiteAddrs))
	siteAddrs := make(map[string]string, len(opts.SiteAddrs))
	for site, addr := range opts.SiteAddrs {
		sites[NormalizeSite(site)] = Behaviour{Kind: KindOK}
		siteAddrs[NormalizeSite(site)] = addr
	}
	opts.SiteAddrs = siteAddrs
	return &Fleet{
		opts:  opts,
		log:   opts.Logger.With("component", "testsite"),
		certs: certs,
		sites: sites,
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}, nil
}

func validateOpts(o Opts) error {
	if o.ShutdownTimeout < 0 {
		return fmt.Errorf("shutdown timeout %s: %w: negative", o.ShutdownTimeout, ErrInvalid)
	}
	addrs := append([]string{o.Addr}, o.ExtraAddrs...)
	if o.ControlAddr != "" {
		addrs = append(addrs, o.ControlAddr)
	}
	for _, a := range addrs {
		if _, err := parsePort(a); err != nil {
			return err
		}
	}
	if o.TLSAddr != "" {
		port, err := parsePort(o.TLSAddr)
		if err != nil {
			return err
		}
		if port != 0 && port+len(TLSVariants()) > 65535 {
			return fmt.Errorf("tls addr %q: %w: no room for the variant ports above it", o.TLSAddr, ErrInvalid)
		}
	}
	seen := make(map[string]string, len(o.SiteAddrs))
	for site, a := range o.SiteAddrs {
		name := NormalizeSite(site)
		if err := ValidateSite(name); err != nil {
			return fmt.Errorf("site addrs: %w", err)
		}
		if other, dup := seen[name]; dup {
			return fmt.Errorf("site addrs: %q and %q: %w: same site", other, site, ErrInvalid)
		}
		seen[name] = site
		if _, err := parsePort(a); err != nil {
			return fmt.Errorf("site %s: %w", site, err)
		}
	}
	return nil
}

func parsePort(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("address %q: %w: %w", addr, ErrInvalid, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("address %q: %w: bad port", addr, ErrInvalid)
	}
	return port, nil
}

// certIPs is the TLS listener's own IP when it is a specific, non-loopback
// address, so certificates verify when it is reached by that IP.
func certIPs(tlsAddr string) []net.IP {
	host, _, err := net.SplitHostPort(tlsAddr)
	if err != nil {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsUnspecified() || ip.IsLoopback() {
		return nil
	}
	return []net.IP{ip.AsSlice()}
}

// Set switches site's behaviour. On a dedicated port, KindClosed has
// stopped the listener, and any other kind has re-bound it, when Set
// returns.
func (f *Fleet) Set(site string, b Behaviour) error {
	site = NormalizeSite(site)
	if err := ValidateSite(site); err != nil {
		return err
	}
	b, err := b.Validate()
	if err != nil {
		return err
	}
	f.setMu.Lock()
	defer f.setMu.Unlock()
	f.mu.Lock()
	f.sites[site] = b
	port := f.ports[site]
	f.mu.Unlock()
	f.log.Info("behaviour set", "site", site, "behaviour", string(b.Kind))
	return applyPort(port, b)
}

// Reset sets site back to KindOK and forgets it (unless it has a dedicated
// port, which stays listed).
func (f *Fleet) Reset(site string) error {
	site = NormalizeSite(site)
	f.setMu.Lock()
	defer f.setMu.Unlock()
	f.mu.Lock()
	delete(f.sites, site)
	if _, ok := f.opts.SiteAddrs[site]; ok {
		f.sites[site] = Behaviour{Kind: KindOK}
	}
	port := f.ports[site]
	f.mu.Unlock()
	f.log.Info("behaviour reset", "site", site)
	return applyPort(port, Behaviour{Kind: KindOK})
}

// ResetAll resets every site.
func (f *Fleet) ResetAll() error {
	var errs []error
	for site := range f.Sites() {
		errs = append(errs, f.Reset(site))
	}
	return errors.Join(errs...)
}

func applyPort(port *switchListener, b Behaviour) error {
	if port == nil {
		return nil
	}
	if b.Kind == KindClosed {
		port.shut()
		return nil
	}
	return port.open()
}

// Behaviour returns site's behaviour (KindOK for sites never set).
func (f *Fleet) Behaviour(site string) Behaviour {
	b := f.lookup(NormalizeSite(site))
	b.Clients = maps.Clone(b.Clients)
	return b
}

// lookup is Behaviour without the defensive copy: stored maps are never
// mutated, and handlers only read them.
func (f *Fleet) lookup(site string) Behaviour {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.sites[site]; ok {
		return b
	}
	return Behaviour{Kind: KindOK}
}

// Sites returns the sites that were set, and those with dedicated ports.
func (f *Fleet) Sites() map[string]Behaviour {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Behaviour, len(f.sites))
	for site, b := range f.sites {
		b.Clients = maps.Clone(b.Clients)
		out[site] = b
	}
	return out
}

// WaitReady blocks until Run listens on every address, Run fails, or ctx
// ends. After it returns nil the address accessors are valid.
func (f *Fleet) WaitReady(ctx context.Context) error {
	select {
	case <-f.ready:
		return nil
	default:
	}
	select {
	case <-f.ready:
		return nil
	case <-f.done:
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.runErr != nil {
			return f.runErr
		}
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("wait for testsite: %w", context.Cause(ctx))
	}
}
