package slack

import (
	"strings"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/alerttext"
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

// newMessage is the summary as fallback and bold header line, after the
// tone's emoji, then the facts as fields.
func newMessage(n uptime.Notice) message {
	headline := escape(alerttext.Summary(n))
	var fields []text
	for _, f := range alerttext.Facts(n) {
		fields = append(fields, text{Type: "mrkdwn", Text: "*" + f.Name + "*\n" + escape(f.Value)})
	}
	return message{
		Text: headline,
		Blocks: []block{
			{Type: "section", Text: &text{Type: "mrkdwn", Text: emoji(alerttext.ToneOf(n)) + " *" + headline + "*"}},
			{Type: "section", Fields: fields},
		},
	}
}

// emoji is :mag: for a test, :white_check_mark: for a recovery,
// :rotating_light: for an alarm, else :warning:.
func emoji(t alerttext.Tone) string {
	switch t {
	case alerttext.ToneTest:
		return ":mag:"
	case alerttext.ToneRecovery:
		return ":white_check_mark:"
	case alerttext.ToneAlarm:
		return ":rotating_light:"
	default:
		return ":warning:"
	}
}

// escape makes s literal in mrkdwn: Slack reads <...> as links and mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
