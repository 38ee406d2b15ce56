// Package uptime is the domain vocabulary of Jetmon Mesh: sites, check specs,
// check results and their error codes, incident severities, states and
// transition reasons, and verifier votes.
//
// It is the leaf of the import graph: standard library only, no I/O. Wire
// formats (NATS, SQL, HTTP) convert to and from these types at their edges.
package uptime
