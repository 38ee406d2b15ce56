package wpcom

import (
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// wireChange is Jetmon v1's status-change body.
type wireChange struct {
	BlogID           int64       `json:"blog_id"`
	MonitorURL       string      `json:"monitor_url"`
	StatusID         int         `json:"status_id"`
	LastCheck        string      `json:"last_check"`         // RFC3339, UTC
	LastStatusChange string      `json:"last_status_change"` // RFC3339, UTC
	StatusType       string      `json:"status_type"`
	Checks           []wireCheck `json:"checks"`
}

// wireCheck is one checks[] entry.
type wireCheck struct {
	Type   int    `json:"type"` // 1 local, 2 veriflier
	Host   string `json:"host"`
	Status int    `json:"status"` // 1 ok, 0 failed
	RTT    int64  `json:"rtt"`    // milliseconds
	Code   int    `json:"code"`   // HTTP status
}

// encode validates c and renders its body.
func encode(c uptime.StatusChange) ([]byte, error) {
	if c.BlogID <= 0 {
		return nil, fmt.Errorf("status change: blog id %d", c.BlogID)
	}
	if c.StatusID != uptime.WPCOMStatusRunning && c.StatusID != uptime.WPCOMStatusConfirmedDown {
		return nil, errors.New("status change: status id must be running (1) or confirmed down (2)")
	}
	w := wireChange{
		BlogID: c.BlogID, MonitorURL: c.MonitorURL, StatusID: c.StatusID,
		LastCheck: rfc3339(c.LastCheck), LastStatusChange: rfc3339(c.LastStatusChange),
		StatusType: c.StatusType, Checks: make([]wireCheck, 0, len(c.Checks)),
	}
	for _, ch := range c.Checks {
		w.Checks = append(w.Checks, wireCheck{Type: ch.Type, Host: ch.Host, Status: ch.Status,
			RTT: ch.RTT.Milliseconds(), Code: ch.Code})
	}
	b, err := httpsend.EncodeJSON(w)
	if err != nil {
		return nil, fmt.Errorf("status change: %w", err)
	}
	return b, nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
