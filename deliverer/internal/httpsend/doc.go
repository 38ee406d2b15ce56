// Package httpsend is the HTTP plumbing the deliverer's transports share:
// a client of their own with connect and handshake timeouts that follows no
// redirect, a JSON POST request, the send that turns any answer into an
// uptime.SendResult (the body read up to 4 KiB and kept as at most
// uptime.MaxResponseBytes of valid UTF-8), errors stripped of the URL (a
// webhook URL is a credential) and the JSON encoding of every body.
//
// It is not a transport: it knows no receiver's wire format or answers.
// It imports only the standard library and uptime; it must not import the
// deliverer package or a transport.
package httpsend
