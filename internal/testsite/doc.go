// Package testsite is a local target fleet for tests, demos and benchmarks:
// one process serving many sites, each with a failure behaviour (status
// codes, slow or hanging responses, resets, truncated bodies, redirect loops,
// keyword content, HEAD/GET differences, per-client answers, broken TLS)
// switchable at runtime through a small JSON control API or directly from Go
// with [Fleet.Set].
//
// Sites are addressed by path prefix (/s/<site>/...) or, failing that, by
// Host header (<site>.test, or any other host name, which is used whole).
// Sites listed in [Opts.SiteAddrs] also get a dedicated port, which really
// stops listening under the "closed" behaviour.
//
// The control API lives under /_control/ on the main listener, or only on
// [Opts.ControlAddr] when that is set. TLS variants (valid, expired,
// self-signed, wrong-host, tls11, expiring-soon) come from a CA generated in memory by
// [New]; the fleet serves HTTP/1.1 only, so every behaviour can hijack its
// connection.
//
// The package is a test and demo tool: it imports only the standard library
// and must not import any other Jetmon Mesh package. docs/testsite.md is the
// operator's guide.
package testsite
