// Package prober is the regional checking role: it follows its bucket
// assignment and the sites of its buckets, checks each site at its fixed
// phase of its interval (re-checking failures quickly), and publishes every
// result through a bounded buffer that survives NATS outages.
//
// It talks to the mesh only through the small interfaces of ports.go, which
// internal/bus implements. It must not import another role, internal/*,
// nats.go or the MySQL driver; the HTTP checker arrives as a Checker.
package prober
