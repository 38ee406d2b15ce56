package email

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// UserAgent is the User-Agent of the wpcom transport's requests.
const UserAgent = "jetmon-email/1"

// wpcomMessage is the wpcom transport's body.
type wpcomMessage struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Plain   string `json:"plain"`
	HTML    string `json:"html"`
}

// sendWPCOM POSTs m to the WPCOM email endpoint.
func (s *Sender) sendWPCOM(ctx context.Context, m message) (uptime.SendResult, error) {
	body, err := encodeJSON(wpcomMessage{From: m.from, To: m.to, Subject: m.subject, Plain: m.plain, HTML: m.html})
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("email wpcom: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.WPCOMEndpoint, bytes.NewReader(body))
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("email wpcom: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if s.o.WPCOMAuthToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.o.WPCOMAuthToken)
	}
	res, err := post(s.client, req)
	if err != nil {
		return res, fmt.Errorf("email wpcom: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res, fmt.Errorf("email wpcom: endpoint answered %d", res.StatusCode)
	}
	return res, nil
}
