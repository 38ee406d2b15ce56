// Package email sends alert-contact notices by email, through the transport
// EMAIL_TRANSPORT names: "stub" logs the message and delivers nothing,
// "smtp" sends a multipart/alternative message through an SMTP server
// (github.com/wneessen/go-mail, bound by the context), and "wpcom" POSTs
// the rendered message to WPCOM's email endpoint. Render is the one
// renderer of a notice's subject and plain-text and HTML bodies.
//
// It imports only the standard library, uptime, go-mail and the shared
// deliverer/internal/httpsend. It must not import the deliverer package,
// another transport, the module's internal/*, nats.go or a SQL driver.
package email
