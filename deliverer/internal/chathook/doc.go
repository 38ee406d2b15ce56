// Package chathook is what the Slack and Teams transports share: posting a
// JSON message to a chat incoming webhook whose URL is its credential, and
// reading the answer the same way (2xx delivered; 403, 404 and 410, a
// webhook that no longer works, permanent; anything else retried). Errors
// never carry the URL.
//
// It is not a transport: each transport builds its own message (its wire
// format) and hands it over. It imports only the standard library, uptime
// and deliverer/internal/httpsend; it must not import the deliverer
// package or a transport.
package chathook
