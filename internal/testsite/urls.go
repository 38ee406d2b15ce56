package testsite

import (
	"crypto/x509"
	"maps"
	"net/url"
	"slices"
)

// Info returns where the fleet listens (zero before WaitReady returns nil).
func (f *Fleet) Info() Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	info := f.info
	info.ExtraAddrs = slices.Clone(info.ExtraAddrs)
	info.TLSVariantAddrs = maps.Clone(info.TLSVariantAddrs)
	info.SiteAddrs = maps.Clone(info.SiteAddrs)
	return info
}

// Addr is the main listener's host:port.
func (f *Fleet) Addr() string { return f.Info().Addr }

// URL is site's path-form URL on the main listener: http://<addr>/s/<site>/.
func (f *Fleet) URL(site string) string {
	return "http://" + f.Addr() + sitePath(site)
}

// SiteURL is the URL of site's dedicated port ("" without one).
func (f *Fleet) SiteURL(site string) string {
	addr := f.Info().SiteAddrs[NormalizeSite(site)]
	if addr == "" {
		return ""
	}
	return "http://" + addr + "/"
}

// TLSURL is site's path-form URL on variant v's own TLS port ("" without TLS).
func (f *Fleet) TLSURL(site string, v TLSVariant) string {
	addr := f.Info().TLSVariantAddrs[v]
	if addr == "" {
		return ""
	}
	return "https://" + addr + sitePath(site)
}

// TLSAddr is the shared TLS listener, which selects the variant by SNI
// "<variant>.tls.test" ("" without TLS).
func (f *Fleet) TLSAddr() string { return f.Info().TLSAddr }

// ControlURL is the control API's base URL, ending in ControlPrefix.
func (f *Fleet) ControlURL() string { return f.Info().ControlURL }

// CAFile is the path of the written ca.pem ("" without Opts.CADir).
func (f *Fleet) CAFile() string { return f.Info().CAFile }

// CAPEM returns the CA certificate in PEM form (available after New).
func (f *Fleet) CAPEM() []byte { return slices.Clone(f.certs.caPEM) }

// CAPool returns a pool holding only the fleet's CA (available after New).
func (f *Fleet) CAPool() *x509.CertPool { return f.certs.caPool.Clone() }

func sitePath(site string) string {
	return "/s/" + url.PathEscape(NormalizeSite(site)) + "/"
}
