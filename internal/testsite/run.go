package testsite

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// listeners are bound by Run before anything is served.
type listeners struct {
	main     []net.Listener // Addr, then ExtraAddrs
	control  net.Listener   // nil: control API on main
	tls      net.Listener   // SNI-selected variants; nil without TLS
	variants map[TLSVariant]net.Listener
	ports    map[string]*switchListener
}

func (ls *listeners) closeAll() {
	all := append([]net.Listener{ls.control, ls.tls}, ls.main...)
	for _, ln := range ls.variants {
		all = append(all, ln)
	}
	for _, ln := range ls.ports {
		all = append(all, ln)
	}
	for _, ln := range all {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// Run writes CADir/ca.pem, binds every listener (a bind error is returned
// at once), serves until ctx ends, then cancels in-flight requests (hanging
// and slow behaviours return) and shuts down within ShutdownTimeout. It
// returns nil after a clean cancel. A Fleet runs once.
func (f *Fleet) Run(ctx context.Context) (err error) {
	f.mu.Lock()
	started := f.started
	f.started = true
	f.mu.Unlock()
	if started {
		return fmt.Errorf("run testsite: %w: already run", ErrStopped)
	}
	defer func() {
		f.mu.Lock()
		f.runErr = err
		f.mu.Unlock()
		close(f.done)
	}()
	caFile, err := f.writeCA()
	if err != nil {
		return err
	}
	ls, err := f.bind(ctx)
	if err != nil {
		return err
	}
	f.publish(ls, caFile)
	return f.serve(ctx, ls)
}

func (f *Fleet) writeCA() (string, error) {
	if f.opts.CADir == "" {
		return "", nil
	}
	dir, err := filepath.Abs(f.opts.CADir)
	if err != nil {
		return "", fmt.Errorf("ca dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("ca dir: %w", err)
	}
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, f.certs.caPEM, 0o644); err != nil { //nolint:gosec // a CA certificate is public
		return "", fmt.Errorf("write ca: %w", err)
	}
	return path, nil
}

func (f *Fleet) bind(ctx context.Context) (_ *listeners, err error) {
	ls := &listeners{variants: make(map[TLSVariant]net.Listener), ports: make(map[string]*switchListener)}
	defer func() {
		if err != nil {
			ls.closeAll()
		}
	}()
	for _, a := range append([]string{f.opts.Addr}, f.opts.ExtraAddrs...) {
		ln, err := listen(ctx, a)
		if err != nil {
			return nil, err
		}
		ls.main = append(ls.main, ln)
	}
	if f.opts.ControlAddr != "" {
		if ls.control, err = listen(ctx, f.opts.ControlAddr); err != nil {
			return nil, err
		}
	}
	if f.opts.TLSAddr != "" {
		if err := f.bindTLS(ctx, ls); err != nil {
			return nil, err
		}
	}
	for site, a := range f.opts.SiteAddrs {
		p, err := listenSwitch(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("site %s: %w", site, err)
		}
		ls.ports[site] = p
	}
	return ls, nil
}

func (f *Fleet) bindTLS(ctx context.Context, ls *listeners) error {
	ln, err := listen(ctx, f.opts.TLSAddr)
	if err != nil {
		return err
	}
	ls.tls = tls.NewListener(ln, f.certs.sniConfig())
	host, _, _ := net.SplitHostPort(f.opts.TLSAddr)
	base, _ := parsePort(f.opts.TLSAddr)
	for i, v := range TLSVariants() {
		port := 0
		if base != 0 {
			port = base + 1 + i
		}
		vl, err := listen(ctx, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("tls variant %s: %w", v, err)
		}
		ls.variants[v] = tls.NewListener(vl, f.certs.configs[v])
	}
	return nil
}

func listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// publish records the bound addresses, hands the dedicated ports to Set
// (shutting those already set to closed) and marks the fleet ready.
func (f *Fleet) publish(ls *listeners, caFile string) {
	info := Info{Addr: dialable(ls.main[0].Addr()), CAFile: caFile}
	for _, ln := range ls.main[1:] {
		info.ExtraAddrs = append(info.ExtraAddrs, dialable(ln.Addr()))
	}
	info.ControlURL = "http://" + info.Addr + ControlPrefix
	if ls.control != nil {
		info.ControlURL = "http://" + dialable(ls.control.Addr()) + ControlPrefix
	}
	if ls.tls != nil {
		info.TLSAddr = dialable(ls.tls.Addr())
		info.TLSVariantAddrs = make(map[TLSVariant]string, len(ls.variants))
		for v, ln := range ls.variants {
			info.TLSVariantAddrs[v] = dialable(ln.Addr())
		}
	}
	if len(ls.ports) > 0 {
		info.SiteAddrs = make(map[string]string, len(ls.ports))
		for site, p := range ls.ports {
			info.SiteAddrs[site] = dialable(p.Addr())
		}
	}
	f.setMu.Lock()
	defer f.setMu.Unlock()
	f.mu.Lock()
	f.info = info
	f.ports = ls.ports
	for site, p := range ls.ports {
		if f.sites[site].Kind == KindClosed {
			p.shut()
		}
	}
	f.mu.Unlock()
	close(f.ready)
	f.log.Info("testsite listening", "addr", info.Addr, "control", info.ControlURL,
		"tls_addr", info.TLSAddr, "ca_file", caFile)
}

// dialable turns an unspecified listen address into a loopback one.
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

func (f *Fleet) serve(ctx context.Context, ls *listeners) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sites := f.newServer(runCtx, f.mainHandler(ls.control == nil))
	servers := []*http.Server{sites}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	serveOn := func(srv *http.Server, ln net.Listener) {
		wg.Go(func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				select {
				case errc <- fmt.Errorf("serve %s: %w", ln.Addr(), err):
				default:
				}
			}
		})
	}
	for _, ln := range ls.site() {
		serveOn(sites, ln)
	}
	if ls.control != nil {
		ctl := f.newServer(runCtx, f.controlHandler())
		servers = append(servers, ctl)
		serveOn(ctl, ls.control)
	}
	for site, p := range ls.ports {
		srv := f.newServer(runCtx, f.siteHandler(site))
		servers = append(servers, srv)
		serveOn(srv, p)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	f.shutdown(ctx, servers)
	wg.Wait()
	f.setMu.Lock()
	f.mu.Lock()
	f.ports = nil
	f.mu.Unlock()
	f.setMu.Unlock()
	f.log.Info("testsite stopped")
	return err
}

// site lists the listeners of the shared site server: plain, then TLS.
func (ls *listeners) site() []net.Listener {
	all := slices.Clone(ls.main)
	if ls.tls != nil {
		all = append(all, ls.tls)
	}
	return append(all, slices.Collect(maps.Values(ls.variants))...)
}

func (f *Fleet) shutdown(ctx context.Context, servers []*http.Server) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.opts.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				f.log.Warn("testsite shutdown timed out, closing", "err", err)
				_ = srv.Close()
			}
		})
	}
	wg.Wait()
}

// newServer's request contexts derive from ctx, so cancelling it releases
// hanging and slow handlers before Shutdown waits for them.
func (f *Fleet) newServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(f.log.Handler(), slog.LevelDebug),
	}
}

// mainHandler routes ControlPrefix to the control API when withControl,
// everything else to the sites. (No ServeMux here: it would redirect
// unclean site paths.)
func (f *Fleet) mainHandler(withControl bool) http.Handler {
	sites := f.siteHandler("")
	if !withControl {
		return sites
	}
	control := f.controlHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ControlPrefix) {
			control.ServeHTTP(w, r)
			return
		}
		sites.ServeHTTP(w, r)
	})
}
