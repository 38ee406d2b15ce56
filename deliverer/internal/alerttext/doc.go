// Package alerttext is what the chat and paging transports (Slack, Teams,
// PagerDuty) say about an alert-contact notice, the same for each: its
// one-line summary, its site, its list of facts and its tone. Each
// transport renders these in its own wire format (mrkdwn fields, an
// Adaptive Card FactSet, an Events API payload); the email transport has
// wording of its own.
//
// It is not a transport. It imports only the standard library and uptime;
// it must not import the deliverer package or a transport.
package alerttext
