package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"time"
)

// tokenPattern is what REGION and NODE_ID must look like: they become NATS
// subject tokens and KV keys.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// nodeIDUnsafe matches what tokenPattern does not allow.
var nodeIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// check is one validation rule: a failure message when bad is true.
type check struct {
	bad bool
	msg string
}

func validate(c Config) error {
	checks := []check{
		{c.LogFormat != "text" && c.LogFormat != "json", fmt.Sprintf("LOG_FORMAT %q: must be text or json", c.LogFormat)},
		{c.NumOfChecks < 1, "NUM_OF_CHECKS must be >= 1"},
		{c.PeerOfflineLimit < 1, "PEER_OFFLINE_LIMIT must be >= 1"},
		{c.TimeBetweenChecks <= 0, "TIME_BETWEEN_CHECKS_SEC must be > 0"},
		{c.AlertCooldown < 0, "ALERT_COOLDOWN_MINUTES must be >= 0"},
		{c.NetCommsTimeout <= 0, "NET_COMMS_TIMEOUT must be > 0"},
		{c.BucketTotal < 1, "BUCKET_TOTAL must be >= 1"},
		{c.RolloutBucketMin < 0, "ROLLOUT_BUCKET_MIN must be >= 0"},
		{c.RolloutBucketMax >= c.BucketTotal, fmt.Sprintf("ROLLOUT_BUCKET_MAX %d must be < BUCKET_TOTAL %d", c.RolloutBucketMax, c.BucketTotal)},
		{c.RolloutBucketMin > c.RolloutBucketMax, fmt.Sprintf("ROLLOUT_BUCKET_MIN %d must be <= ROLLOUT_BUCKET_MAX %d", c.RolloutBucketMin, c.RolloutBucketMax)},
		{c.NodeTTL < 2*time.Second, "NODE_TTL_SEC must be >= 2"},
		{c.LeaderTTL < 2*time.Second, "LEADER_TTL_SEC must be >= 2"},
		{c.SiteSyncInterval <= 0, "SITE_SYNC_INTERVAL_SEC must be > 0"},
		{c.SiteFullSync <= 0, "SITE_FULL_SYNC_MIN must be > 0"},
		{c.MinCheckInterval < 5*time.Second, "MIN_CHECK_INTERVAL_SEC must be >= 5"},
		{c.MaxConcurrentChecks < 1, "MAX_CONCURRENT_CHECKS must be >= 1"},
		{c.ResultBuffer < 0, "RESULT_BUFFER must be >= 0"},
		{c.HistorySuccessSample < 0, "HISTORY_SUCCESS_SAMPLE_SEC must be >= 0"},
		{!tokenPattern.MatchString(c.Region), fmt.Sprintf("REGION %q: must be 1-64 of A-Z a-z 0-9 _ -", c.Region)},
		{!tokenPattern.MatchString(c.NodeID), fmt.Sprintf("NODE_ID %q: must be 1-64 of A-Z a-z 0-9 _ - (set it explicitly when the hostname has dots)", c.NodeID)},
		{c.Capacity < 1, "CAPACITY must be >= 1"},
		{c.NATS.Replicas < 1 || c.NATS.Replicas > 5, "NATS_REPLICAS must be between 1 and 5"},
		{c.DB.DSN == "" && (c.DB.Port < 1 || c.DB.Port > 65535), "DB_PORT must be between 1 and 65535"},
		{c.WPCOMNotify && c.WPCOMNotifyURL == "", "WPCOM_NOTIFY_URL is required when WPCOM_NOTIFY_ENABLE is true"},
		{c.WPCOMNotify && c.AuthToken == "", "AUTH_TOKEN is required when WPCOM_NOTIFY_ENABLE is true"},
		{c.NATS.EmbeddedAddr != "" && !validAddr(c.NATS.EmbeddedAddr), fmt.Sprintf("NATS_EMBEDDED_ADDR %q: must be host:port or empty", c.NATS.EmbeddedAddr)},
		{!validAddr(c.APIAddr), fmt.Sprintf("API_ADDR %q: must be host:port", c.APIAddr)},
		{!validAddr(c.OpsAddr), fmt.Sprintf("OPS_ADDR %q: must be host:port", c.OpsAddr)},
		{c.DNSResolver != "" && !validAddr(c.DNSResolver), fmt.Sprintf("DNS_RESOLVER %q: must be host:port", c.DNSResolver)},
		{c.SourceAddr != "" && net.ParseIP(c.SourceAddr) == nil, fmt.Sprintf("SOURCE_ADDR %q: must be an IP address", c.SourceAddr)},
		{c.DeliveryWorkers < 1 || c.DeliveryWorkers > 256, "DELIVERY_WORKERS must be between 1 and 256"},
		{c.DeliveryTimeout < time.Second || c.DeliveryTimeout > 5*time.Minute, "DELIVERY_TIMEOUT_SEC must be between 1 and 300"},
		{c.ShutdownTimeout <= 0 || c.ShutdownTimeout > 9*time.Second, "SHUTDOWN_TIMEOUT_SEC must be between 1 and 9 (processes exit within 10 s)"},
	}
	for _, ch := range checks {
		if ch.bad {
			return errors.New(ch.msg)
		}
	}
	return nil
}
