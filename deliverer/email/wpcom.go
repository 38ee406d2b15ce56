package email

import (
	"context"
	"fmt"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
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
	body, err := httpsend.EncodeJSON(wpcomMessage{From: m.from, To: m.to, Subject: m.subject, Plain: m.plain, HTML: m.html})
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("email wpcom: %w", err)}
	}
	req, err := httpsend.NewPost(ctx, s.o.WPCOMEndpoint, UserAgent, body)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("email wpcom: %w", err)
	}
	if s.o.WPCOMAuthToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.o.WPCOMAuthToken)
	}
	res, err := httpsend.Post(s.client, req)
	if err != nil {
		return res, fmt.Errorf("email wpcom: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res, fmt.Errorf("email wpcom: endpoint answered %d", res.StatusCode)
	}
	return res, nil
}
