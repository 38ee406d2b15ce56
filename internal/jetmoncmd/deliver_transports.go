package jetmoncmd

import (
	"fmt"
	"log/slog"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/deliverer/email"
	"github.com/jetmon-mesh/jetmon/deliverer/pagerduty"
	slacksender "github.com/jetmon-mesh/jetmon/deliverer/slack"
	teamssender "github.com/jetmon-mesh/jetmon/deliverer/teams"
	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
	"github.com/jetmon-mesh/jetmon/deliverer/wpcom"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// transportsKey shares a process's transports between the deliverer role
// and the API's send-test, so both use the same senders (and the same WPCOM
// breaker) and the email line is logged once.
const transportsKey = "delivery-transports"

// deliveryTransports are the senders of one process.
type deliveryTransports struct {
	webhooks deliverer.WebhookSender
	alerts   map[uptime.AlertTransport]deliverer.AlertSender
	// wpcom is nil while WPCOM_NOTIFY_ENABLE is false.
	wpcom   deliverer.StatusNotifier
	breaker func() string // the WPCOM breaker's state; nil without wpcom
}

// sharedTransports returns the process's transports, built from config on
// first use.
func sharedTransports(rt *cli.Runtime, node *cli.Node) (deliveryTransports, error) {
	if v, ok := node.Shared(transportsKey); ok {
		return v.(deliveryTransports), nil //nolint:forcetypeassert // only sharedTransports shares transportsKey
	}
	t, err := buildTransports(rt.Config, rt.Logger)
	if err != nil {
		return deliveryTransports{}, err
	}
	node.Share(transportsKey, t, func() error { return nil })
	return t, nil
}

// buildTransports builds every sender from config: the webhook sender, the
// four alert transports and, when enabled, the WPCOM notifier.
func buildTransports(c config.Config, logger *slog.Logger) (deliveryTransports, error) {
	hooks, err := webhook.New(webhook.Opts{Timeout: c.DeliveryTimeout, Logger: logger})
	if err != nil {
		return deliveryTransports{}, fmt.Errorf("deliverer: %w", err)
	}
	alerts, err := alertSenders(c, logger)
	if err != nil {
		return deliveryTransports{}, err
	}
	t := deliveryTransports{webhooks: hooks, alerts: alerts}
	if c.WPCOMNotify {
		n, err := wpcom.New(wpcom.Opts{URL: c.WPCOMNotifyURL, Token: c.AuthToken.Reveal(), Timeout: c.DeliveryTimeout,
			Logger: logger})
		if err != nil {
			return deliveryTransports{}, fmt.Errorf("deliverer: %w", err)
		}
		t.wpcom, t.breaker = n, func() string { return string(n.State()) }
	}
	return t, nil
}

// alertSenders builds the sender of every managed alert transport and logs
// which email transport it wired: `config: email_transport=<mode>`, and a
// warning when alert-contact emails are only logged.
func alertSenders(c config.Config, logger *slog.Logger) (map[uptime.AlertTransport]deliverer.AlertSender, error) {
	mail, err := email.New(email.Opts{
		Transport: c.Email.Transport, From: c.Email.From,
		SMTPHost: c.Email.SMTPHost, SMTPPort: c.Email.SMTPPort, SMTPUsername: c.Email.SMTPUsername,
		SMTPPassword: c.Email.SMTPPassword.Reveal(), SMTPUseTLS: c.Email.SMTPUseTLS,
		WPCOMEndpoint: c.Email.WPCOMEndpoint, WPCOMAuthToken: c.Email.WPCOMAuthToken.Reveal(),
		Timeout: c.DeliveryTimeout, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("deliverer: %w", err)
	}
	pd, err := pagerduty.New(pagerduty.Opts{Timeout: c.DeliveryTimeout, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("deliverer: %w", err)
	}
	sl, err := slacksender.New(slacksender.Opts{Timeout: c.DeliveryTimeout, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("deliverer: %w", err)
	}
	tm, err := teamssender.New(teamssender.Opts{Timeout: c.DeliveryTimeout, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("deliverer: %w", err)
	}
	logger.Info("config: "+c.EmailLine(), "component", "deliverer", "email_sender", mail.Transport())
	if w := c.EmailStubWarning(); w != "" {
		logger.Warn(w, "component", "deliverer")
	}
	return map[uptime.AlertTransport]deliverer.AlertSender{
		uptime.TransportEmail: mail, uptime.TransportPagerDuty: pd, uptime.TransportSlack: sl, uptime.TransportTeams: tm,
	}, nil
}
