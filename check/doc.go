// Package check runs one uptime.CheckSpec against its target and returns an
// uptime.Result: an HTTP GET with per-phase timings (DNS, TCP, TLS, TTFB),
// certificate expiry and TLS version, redirect policy, bounded body reading
// with truncation detection, and required/forbidden keyword rules.
//
// A Checker owns one shared, bounded http.Transport that opens a fresh
// connection for every check, so every phase is measured every time.
//
// It imports only the standard library and uptime. It must not import NATS,
// SQL, Prometheus, chi, logging globals or any role or internal package.
package check
