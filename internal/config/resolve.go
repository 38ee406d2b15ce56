package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Defaults that are not obvious from their key.
const (
	DefaultUserAgent = "jetmon/2.0 (Jetpack Site Uptime Monitor by WordPress.com)"
	DefaultAPIAddr   = "127.0.0.1:8090"
	DefaultOpsAddr   = "127.0.0.1:9090"
	// DefaultNATSEmbeddedAddr avoids 4222 so `jetmon all` can run beside a
	// standalone nats-server.
	DefaultNATSEmbeddedAddr = "127.0.0.1:14222"
	DefaultEmailFrom        = "jetmon@noreply.invalid"
)

func defaultRetrySchedule() []string { return []string{"1m", "5m", "30m", "1h", "6h"} }

// resolve applies defaults and validates. Validation stops at the first
// problem and names its key.
func resolve(f fileConfig) (Config, error) {
	c := Config{
		Debug:                deref(f.Debug, false),
		LogFormat:            deref(f.LogFormat, "text"),
		NumOfChecks:          deref(f.NumOfChecks, 3),
		PeerOfflineLimit:     deref(f.PeerOfflineLimit, 3),
		TimeBetweenChecks:    seconds(deref(f.TimeBetweenChecksSec, 30)),
		AlertCooldown:        time.Duration(deref(f.AlertCooldownMinutes, 30)) * time.Minute,
		NetCommsTimeout:      seconds(deref(f.NetCommsTimeout, 10)),
		UserAgent:            deref(f.UserAgent, DefaultUserAgent),
		CABundle:             deref(f.CABundle, ""),
		DNSResolver:          deref(f.DNSResolver, ""),
		SourceAddr:           deref(f.SourceAddr, ""),
		BucketTotal:          deref(f.BucketTotal, 1000),
		NodeTTL:              seconds(deref(f.NodeTTLSec, 10)),
		LeaderTTL:            seconds(deref(f.LeaderTTLSec, 10)),
		SiteSyncInterval:     seconds(deref(f.SiteSyncIntervalSec, 2)),
		SiteFullSync:         time.Duration(deref(f.SiteFullSyncMin, 15)) * time.Minute,
		MinCheckInterval:     seconds(deref(f.MinCheckIntervalSec, 60)),
		MaxConcurrentChecks:  deref(f.MaxConcurrentChecks, 500),
		ResultBuffer:         deref(f.ResultBuffer, 100000),
		HistorySuccessSample: seconds(deref(f.HistorySuccessSampleSec, 3600)),
		Region:               strings.TrimSpace(deref(f.Region, "local")),
		NodeID:               strings.TrimSpace(deref(f.NodeID, "")),
		Capacity:             deref(f.Capacity, 1),
		WPCOMNotify:          deref(f.WPCOMNotifyEnable, false),
		WPCOMNotifyURL:       deref(f.WPCOMNotifyURL, ""),
		AuthToken:            Secret(deref(f.AuthToken, "")),
		APIAddr:              deref(f.APIAddr, DefaultAPIAddr),
		OpsAddr:              deref(f.OpsAddr, DefaultOpsAddr),
		ShutdownTimeout:      seconds(deref(f.ShutdownTimeoutSec, 8)),
		DeliveryWorkers:      deref(f.DeliveryWorkers, 8),
		DeliveryTimeout:      seconds(deref(f.DeliveryTimeoutSec, 30)),
	}
	c.LegacyStatusProjection, c.Warnings = projection(f)
	c.RolloutBucketMin = deref(f.RolloutBucketMin, 0)
	c.RolloutBucketMax = deref(f.RolloutBucketMax, c.BucketTotal-1)
	c.NATS = NATS{
		URL:          deref(f.NATSURL, ""),
		Replicas:     deref(f.NATSReplicas, 1),
		StoreDir:     deref(f.NATSStoreDir, ".local/nats"),
		EmbeddedAddr: deref(f.NATSEmbeddedAddr, DefaultNATSEmbeddedAddr),
		User:         deref(f.NATSUser, ""),
		Password:     Secret(deref(f.NATSPassword, "")),
		CredsFile:    deref(f.NATSCredsFile, ""),
	}
	c.DB = DB{
		DSN:      Secret(deref(f.DBDSN, "")),
		Host:     deref(f.DBHost, "127.0.0.1"),
		Port:     deref(f.DBPort, 3306),
		User:     deref(f.DBUser, "root"),
		Password: Secret(deref(f.DBPassword, "")),
		Name:     deref(f.DBName, "jetmon"),
	}
	email, err := resolveEmail(f)
	if err != nil {
		return Config{}, err
	}
	c.Email = email
	if c.RetrySchedule, err = parseSchedule(deref(f.RetrySchedule, defaultRetrySchedule())); err != nil {
		return Config{}, err
	}
	if c.NodeID == "" {
		c.NodeID = defaultNodeID()
	}
	return c, validate(c)
}

// projection settles LEGACY_STATUS_PROJECTION_ENABLE against its deprecated
// alias: the alias counts only when the new key is absent; when both are
// present the new key wins, even when false.
func projection(f fileConfig) (bool, []string) {
	switch {
	case f.LegacyStatusProjectionEnable != nil && f.DBUpdatesEnable != nil:
		return *f.LegacyStatusProjectionEnable, []string{"config keys LEGACY_STATUS_PROJECTION_ENABLE and deprecated DB_UPDATES_ENABLE are both set; DB_UPDATES_ENABLE is ignored"}
	case f.LegacyStatusProjectionEnable != nil:
		return *f.LegacyStatusProjectionEnable, nil
	case f.DBUpdatesEnable != nil:
		return *f.DBUpdatesEnable, []string{"config key DB_UPDATES_ENABLE is deprecated; rename it to LEGACY_STATUS_PROJECTION_ENABLE"}
	default:
		return true, nil
	}
}

func resolveEmail(f fileConfig) (Email, error) {
	e := Email{
		Transport:      strings.TrimSpace(deref(f.EmailTransport, EmailStub)),
		From:           deref(f.EmailFrom, DefaultEmailFrom),
		WPCOMEndpoint:  deref(f.WPCOMEmailEndpoint, ""),
		WPCOMAuthToken: Secret(deref(f.WPCOMEmailAuthToken, "")),
		SMTPHost:       deref(f.SMTPHost, ""),
		SMTPPort:       deref(f.SMTPPort, 0),
		SMTPUsername:   deref(f.SMTPUsername, ""),
		SMTPPassword:   Secret(deref(f.SMTPPassword, "")),
		SMTPUseTLS:     deref(f.SMTPUseTLS, false),
	}
	switch e.Transport {
	case "", EmailStub:
		e.Transport = EmailStub
	case EmailSMTP:
		if e.SMTPHost == "" {
			return Email{}, errors.New("SMTP_HOST is required when EMAIL_TRANSPORT=smtp")
		}
		if e.SMTPPort <= 0 {
			return Email{}, errors.New("SMTP_PORT must be > 0 when EMAIL_TRANSPORT=smtp")
		}
	case EmailWPCOM:
		if e.WPCOMEndpoint == "" {
			return Email{}, errors.New("WPCOM_EMAIL_ENDPOINT is required when EMAIL_TRANSPORT=wpcom")
		}
	default:
		return Email{}, fmt.Errorf("EMAIL_TRANSPORT %q: must be one of: stub, smtp, wpcom", e.Transport)
	}
	return e, nil
}

func parseSchedule(steps []string) ([]time.Duration, error) {
	if len(steps) == 0 {
		return nil, errors.New("RETRY_SCHEDULE must have at least one step")
	}
	out := make([]time.Duration, len(steps))
	for i, s := range steps {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("RETRY_SCHEDULE[%d] %q: must be a positive duration such as 5m", i, s)
		}
		out[i] = d
	}
	return out, nil
}

// defaultNodeID derives a NODE_ID from the hostname, replacing characters a
// NATS subject token or KV key cannot hold.
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "node"
	}
	id := nodeIDUnsafe.ReplaceAllString(host, "-")
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// validAddr reports whether s is a host:port listen or dial address.
func validAddr(s string) bool {
	_, port, err := net.SplitHostPort(s)
	return err == nil && port != ""
}
