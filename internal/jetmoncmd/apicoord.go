package jetmoncmd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/checkreport"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Notes the API's pause and delete leave on the transitions they cause.
const (
	apiPauseNote  = "site paused via API"
	apiDeleteNote = "site deleted via API"
)

// apiCoordinator is api.Coordinator over the coordinator's NATS commands
// (bus.CommandClient). No leader, a leader that is stopping or has no
// prober for the site, and a timeout are api.ErrCoordinatorUnavailable;
// not_found is api.ErrNotFound.
type apiCoordinator struct {
	c *bus.CommandClient
	// timeout bounds each command (a trigger-now waits for a check): the
	// API's request context usually ends first.
	timeout time.Duration
}

var _ api.Coordinator = apiCoordinator{}

// call sends one command and decodes its reply data into out.
func (a apiCoordinator) call(ctx context.Context, verb string, payload, out any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("coordinator %s: encode: %w", verb, err)
	}
	if a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	data, err := a.c.Call(ctx, verb, body)
	if err != nil {
		return commandErr(verb, err)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("coordinator %s: reply: %w", verb, err)
	}
	return nil
}

// commandErr maps a command failure onto the API's sentinels, keeping the
// cause in the chain.
func commandErr(verb string, err error) error {
	if errors.Is(err, bus.ErrCoordinatorUnavailable) {
		return fmt.Errorf("coordinator %s: %w", verb, mapped{api.ErrCoordinatorUnavailable, err, err.Error()})
	}
	if ce, ok := errors.AsType[*bus.CommandError](err); ok {
		switch ce.Code {
		case bus.CodeUnavailable:
			return fmt.Errorf("coordinator %s: %w", verb, mapped{api.ErrCoordinatorUnavailable, err,
				api.ErrCoordinatorUnavailable.Error() + ": " + ce.Message})
		case bus.CodeNotFound:
			return fmt.Errorf("coordinator %s: %w", verb, mapped{api.ErrNotFound, err, api.ErrNotFound.Error() + ": " + ce.Message})
		}
	}
	return fmt.Errorf("coordinator %s: %w", verb, err)
}

// mapped is a cause that also is an API sentinel, with its own text.
type mapped struct {
	sentinel, cause error
	msg             string
}

func (e mapped) Error() string { return e.msg }

// Unwrap returns both chains.
func (e mapped) Unwrap() []error { return []error{e.sentinel, e.cause} }

// closeCommand is the payload of event.close, site.pause and site.delete.
type closeCommand struct {
	BlogID    int64  `json:"blog_id"`
	EventID   int64  `json:"event_id,omitempty"`
	CheckType string `json:"check_type,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Note      string `json:"note,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// closeReply is their reply.
type closeReply struct {
	Closed int `json:"closed"` // 0 for an event that was already closed
}

// CloseEvents asks the leader to close r's event (or every open event of
// the site); an event that was already closed counts 0.
func (a apiCoordinator) CloseEvents(ctx context.Context, r api.CloseRequest) (int, error) {
	var reply closeReply
	err := a.call(ctx, bus.VerbEventClose, closeCommand{BlogID: r.BlogID, EventID: r.EventID, CheckType: r.CheckType,
		Reason: string(r.Reason), Note: r.Note, Actor: r.Actor}, &reply)
	return reply.Closed, err
}

// PauseSite asks the leader to close every open event of the site before
// the API deactivates it.
func (a apiCoordinator) PauseSite(ctx context.Context, blogID int64, actor string) (int, error) {
	var reply closeReply
	err := a.call(ctx, bus.VerbSitePause, closeCommand{BlogID: blogID, Note: apiPauseNote, Actor: actor}, &reply)
	return reply.Closed, err
}

// DeleteSite is PauseSite for a delete.
func (a apiCoordinator) DeleteSite(ctx context.Context, blogID int64, actor string) (int, error) {
	var reply closeReply
	err := a.call(ctx, bus.VerbSiteDelete, closeCommand{BlogID: blogID, Note: apiDeleteNote, Actor: actor}, &reply)
	return reply.Closed, err
}

// SyncSites asks the leader to mirror changed site rows now.
func (a apiCoordinator) SyncSites(ctx context.Context) error {
	return a.call(ctx, bus.VerbSiteSync, struct{}{}, nil)
}

// triggerReply is site.trigger's reply: the prober's check as
// internal/checkreport flattens it.
type triggerReply struct {
	NodeID string             `json:"node_id"`
	Region string             `json:"region"`
	Closed int                `json:"closed"`
	Result checkreport.Report `json:"result"`
}

// TriggerSite has the prober owning the site check it now; its success
// closes the site's open events.
func (a apiCoordinator) TriggerSite(ctx context.Context, blogID int64) (api.TriggerResult, error) {
	var reply triggerReply
	if err := a.call(ctx, bus.VerbSiteTrigger, closeCommand{BlogID: blogID}, &reply); err != nil {
		return api.TriggerResult{}, err
	}
	return reply.result(blogID), nil
}

// result is the reply as the API's port carries it.
func (reply triggerReply) result(blogID int64) api.TriggerResult {
	r := reply.Result
	res := uptime.Result{
		BlogID: blogID, URL: r.URL, FinalURL: r.FinalURL, Method: r.Method, Success: r.Success, HTTPCode: r.HTTPCode,
		ErrorCode: r.ErrorCode, KeywordRule: r.KeywordRule,
		RedirectChanged: r.RedirectChanged, RTT: millis(r.RTTMs), DNS: millis(r.DNSMs), TCP: millis(r.TCPMs), TLS: millis(r.TLSMs),
		TTFB: millis(r.TTFBMs), TLSVersion: tlsVersion(r.TLSVersion), CipherSuite: cipherSuite(r.CipherSuite),
		SSLExpiry: r.SSLExpiry, CheckedAt: r.CheckedAt,
	}
	return api.TriggerResult{NodeID: reply.NodeID, Region: reply.Region, Closed: reply.Closed, Result: res}
}

// millis is a millisecond count as a duration.
func millis(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// tlsVersion is the code of a tls.VersionName, 0 when unknown or empty.
func tlsVersion(name string) uint16 {
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		if name != "" && tls.VersionName(v) == name {
			return v
		}
	}
	return 0
}

// cipherSuite is the id of a tls.CipherSuiteName, 0 when unknown or empty.
func cipherSuite(name string) uint16 {
	if name == "" {
		return 0
	}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if cs.Name == name {
				return cs.ID
			}
		}
	}
	return 0
}
