package slack

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// message is an incoming-webhook body: text is the notification fallback.
type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

// block is a Block Kit section with either a text or fields.
type block struct {
	Type   string `json:"type"`
	Text   *text  `json:"text,omitempty"`
	Fields []text `json:"fields,omitempty"`
}

type text struct {
	Type string `json:"type"` // mrkdwn
	Text string `json:"text"`
}

func newMessage(n uptime.Notice) message {
	headline := summary(n)
	fields := []text{
		field("Site ID", strconv.FormatInt(n.SiteID, 10)),
		field("Event", fmt.Sprintf("#%d (%s)", n.EventID, n.EventType)),
		field("State", string(n.State)),
	}
	if n.Reason != "" {
		fields = append(fields, field("Reason", string(n.Reason)))
	}
	fields = append(fields, field("Time", n.OccurredAt.UTC().Format(time.RFC3339)))
	return message{
		Text: escape(headline),
		Blocks: []block{
			{Type: "section", Text: &text{Type: "mrkdwn", Text: emoji(n) + " *" + escape(headline) + "*"}},
			{Type: "section", Fields: fields},
		},
	}
}

func field(name, value string) text {
	return text{Type: "mrkdwn", Text: "*" + name + "*\n" + escape(value)}
}

// summary is "[Jetmon test] <url>", "Recovered: <url>" or "<SeverityName>: <url>".
func summary(n uptime.Notice) string {
	site := n.SiteURL
	if site == "" {
		site = "site:" + strconv.FormatInt(n.SiteID, 10)
	}
	switch {
	case n.Test:
		return "[Jetmon test] " + site
	case n.Recovery:
		return "Recovered: " + site
	default:
		return uptime.SeverityName(n.Severity) + ": " + site
	}
}

// emoji is :mag: for a test, :white_check_mark: for a recovery,
// :rotating_light: from Seems Down up, else :warning:.
func emoji(n uptime.Notice) string {
	switch {
	case n.Test:
		return ":mag:"
	case n.Recovery:
		return ":white_check_mark:"
	case n.Severity >= uptime.SeveritySeemsDown:
		return ":rotating_light:"
	default:
		return ":warning:"
	}
}

// escape makes s literal in mrkdwn: Slack reads <...> as links and mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
