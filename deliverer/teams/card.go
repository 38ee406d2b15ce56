package teams

import (
	"fmt"
	"strconv"
	"time"

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

func newMessage(n uptime.Notice) message {
	facts := []fact{
		{Title: "Site ID", Value: strconv.FormatInt(n.SiteID, 10)},
		{Title: "Event", Value: fmt.Sprintf("#%d (%s)", n.EventID, n.EventType)},
		{Title: "State", Value: string(n.State)},
	}
	if n.Reason != "" {
		facts = append(facts, fact{Title: "Reason", Value: string(n.Reason)})
	}
	facts = append(facts, fact{Title: "Time", Value: n.OccurredAt.UTC().Format(time.RFC3339)})
	return message{
		Type: "message",
		Attachments: []attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: card{
				Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
				Body: []element{
					{Type: "TextBlock", Text: summary(n), Weight: "Bolder", Size: "Medium", Color: color(n), Wrap: true},
					{Type: "FactSet", Facts: facts},
				},
			},
		}},
	}
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

// color is the header's Adaptive Card color: Good for a recovery,
// Attention from Seems Down up, Warning below, Accent for a test.
func color(n uptime.Notice) string {
	switch {
	case n.Test:
		return "Accent"
	case n.Recovery:
		return "Good"
	case n.Severity >= uptime.SeveritySeemsDown:
		return "Attention"
	default:
		return "Warning"
	}
}
