package email

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Render returns a notice's subject, plain-text body and HTML body.
//
// The subject is "[Jetmon test] <url>" for a test send, "[Recovered] <url>"
// for a recovery and "[<SeverityName>] <url>" otherwise, with CR and LF
// removed. Both bodies carry the site (id), severity, state, event #id
// (type), reason, time (RFC3339, UTC) and the veriflier votes when there
// are any, after a banner line for a test or a recovery. Every value in the
// HTML body is escaped.
func Render(n uptime.Notice) (subject, plain, html string) {
	v := newView(n)
	subject = headerValue(v.subjectTag() + " " + v.Site)
	plain = v.plain()
	var b strings.Builder
	t, err := template.New("email").Parse(htmlTemplate)
	if err == nil {
		err = t.Execute(&b, v)
	}
	if err != nil { // unreachable with the constant template; never send half a page
		return subject, plain, "<pre>" + template.HTMLEscapeString(plain) + "</pre>"
	}
	return subject, plain, b.String()
}

// headerValue is s without CR or LF, so a value cannot start a header.
func headerValue(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// view is a notice as the bodies show it.
type view struct {
	Test, Recovery bool
	Site           string
	SiteID         int64
	Severity       string
	State          string
	Event          string
	Reason         string
	Time           string
	Votes          []string
	severity       uptime.Severity
}

func newView(n uptime.Notice) view {
	v := view{
		Test: n.Test, Recovery: n.Recovery && !n.Test, Site: headerValue(n.SiteURL), SiteID: n.SiteID,
		Severity: uptime.SeverityName(n.Severity), State: string(n.State),
		Event:  fmt.Sprintf("#%d (%s)", n.EventID, n.EventType),
		Reason: string(n.Reason), Time: n.OccurredAt.UTC().Format(time.RFC3339), severity: n.Severity,
	}
	if v.Site == "" {
		v.Site = "site:" + strconv.FormatInt(n.SiteID, 10)
	}
	if n.SeverityBefore != n.Severity {
		v.Severity += " (was " + uptime.SeverityName(n.SeverityBefore) + ")"
	}
	for _, vote := range n.Votes {
		v.Votes = append(v.Votes, voteLine(vote))
	}
	return v
}

func (v view) subjectTag() string {
	switch {
	case v.Test:
		return "[Jetmon test]"
	case v.Recovery:
		return "[Recovered]"
	default:
		return "[" + uptime.SeverityName(v.severity) + "]"
	}
}

// Banner is the line above the details, if any.
func (v view) Banner() string {
	switch {
	case v.Test:
		return "This is a test notification from Jetmon: no incident is behind it."
	case v.Recovery:
		return "Recovered: " + v.Site + " is up again."
	default:
		return ""
	}
}

// voteLine is one veriflier's answer: "eu-west/veriflier-eu-1: down (HTTP 503, connect, 412ms)".
func voteLine(v uptime.Vote) string {
	verdict, details := "down", make([]string, 0, 3)
	if v.Up {
		verdict = "up"
	}
	if v.HTTPCode > 0 {
		details = append(details, "HTTP "+strconv.Itoa(v.HTTPCode))
	}
	if v.ErrorCode != uptime.ErrorNone {
		details = append(details, v.ErrorCode.String())
	}
	details = append(details, strconv.FormatInt(v.RTT.Milliseconds(), 10)+"ms")
	return fmt.Sprintf("%s/%s: %s (%s)", v.Region, v.NodeID, verdict, strings.Join(details, ", "))
}

func (v view) plain() string {
	var b strings.Builder
	if banner := v.Banner(); banner != "" {
		b.WriteString(banner + "\n\n")
	}
	fmt.Fprintf(&b, "Site:     %s (%d)\n", v.Site, v.SiteID)
	fmt.Fprintf(&b, "Severity: %s\n", v.Severity)
	fmt.Fprintf(&b, "State:    %s\n", v.State)
	fmt.Fprintf(&b, "Event:    %s\n", v.Event)
	if v.Reason != "" {
		fmt.Fprintf(&b, "Reason:   %s\n", v.Reason)
	}
	fmt.Fprintf(&b, "Time:     %s\n", v.Time)
	if len(v.Votes) > 0 {
		b.WriteString("\nVeriflier votes:\n")
		for _, line := range v.Votes {
			b.WriteString("  " + line + "\n")
		}
	}
	b.WriteString("\n-- \nJetmon uptime monitoring\n")
	return b.String()
}

// htmlTemplate is the HTML body; html/template escapes every value.
const htmlTemplate = `<!DOCTYPE html>
<html><body>
{{with .Banner}}<p><strong>{{.}}</strong></p>
{{end}}<table cellpadding="4">
<tr><th align="left">Site</th><td>{{.Site}} ({{.SiteID}})</td></tr>
<tr><th align="left">Severity</th><td>{{.Severity}}</td></tr>
<tr><th align="left">State</th><td>{{.State}}</td></tr>
<tr><th align="left">Event</th><td>{{.Event}}</td></tr>
{{with .Reason}}<tr><th align="left">Reason</th><td>{{.}}</td></tr>
{{end}}<tr><th align="left">Time</th><td>{{.Time}}</td></tr>
</table>
{{with .Votes}}<p>Veriflier votes:</p>
<ul>
{{range .}}<li>{{.}}</li>
{{end}}</ul>
{{end}}<p>Jetmon uptime monitoring</p>
</body></html>
`
