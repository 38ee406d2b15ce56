package teams

import (
	"github.com/jetmon-mesh/jetmon/deliverer/internal/alerttext"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// message is the incoming-webhook envelope around one Adaptive Card.
type message struct {
	Type        string       `json:"type"` // "message"
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string `json:"contentType"` // application/vnd.microsoft.card.adaptive
	Content     card   `json:"content"`
}

type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"` // "AdaptiveCard"
	Version string    `json:"version"`
	Body    []element `json:"body"`
}

// element is a TextBlock or a FactSet.
type element struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Color  string `json:"color,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Facts  []fact `json:"facts,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// newMessage is the summary as a bold header line in the tone's color,
// then the facts as a FactSet.
func newMessage(n uptime.Notice) message {
	var facts []fact
	for _, f := range alerttext.Facts(n) {
		facts = append(facts, fact{Title: f.Name, Value: f.Value})
	}
	return message{
		Type: "message",
		Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: card{
				Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
				Body: []element{
					{Type: "TextBlock", Text: alerttext.Summary(n), Weight: "Bolder", Size: "Medium",
						Color: color(alerttext.ToneOf(n)), Wrap: true},
					{Type: "FactSet", Facts: facts},
				},
			},
		}},
	}
}

// color is the header's Adaptive Card color: Accent for a test, Good for a
// recovery, Attention for an alarm, else Warning.
func color(t alerttext.Tone) string {
	switch t {
	case alerttext.ToneTest:
		return "Accent"
	case alerttext.ToneRecovery:
		return "Good"
	case alerttext.ToneAlarm:
		return "Attention"
	default:
		return "Warning"
	}
}
