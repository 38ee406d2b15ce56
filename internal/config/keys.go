package config

// fileConfig is the set of keys a config file (or JETMON_<KEY>) may set.
// Pointers tell "absent" from "zero" so defaults and the deprecated alias
// rules can be applied after decoding. The json tags are the key names.
type fileConfig struct {
	// Jetmon v2 keys with the same meaning.
	Debug                        *bool     `json:"DEBUG"`
	LogFormat                    *string   `json:"LOG_FORMAT"`
	NumOfChecks                  *int      `json:"NUM_OF_CHECKS"`
	PeerOfflineLimit             *int      `json:"PEER_OFFLINE_LIMIT"`
	TimeBetweenChecksSec         *int      `json:"TIME_BETWEEN_CHECKS_SEC"`
	NetCommsTimeout              *int      `json:"NET_COMMS_TIMEOUT"`
	BucketTotal                  *int      `json:"BUCKET_TOTAL"`
	AlertCooldownMinutes         *int      `json:"ALERT_COOLDOWN_MINUTES"`
	LegacyStatusProjectionEnable *bool     `json:"LEGACY_STATUS_PROJECTION_ENABLE"`
	DBUpdatesEnable              *bool     `json:"DB_UPDATES_ENABLE"` // deprecated alias
	EmailTransport               *string   `json:"EMAIL_TRANSPORT"`
	EmailFrom                    *string   `json:"EMAIL_FROM"`
	WPCOMEmailEndpoint           *string   `json:"WPCOM_EMAIL_ENDPOINT"`
	WPCOMEmailAuthToken          *string   `json:"WPCOM_EMAIL_AUTH_TOKEN"`
	SMTPHost                     *string   `json:"SMTP_HOST"`
	SMTPPort                     *int      `json:"SMTP_PORT"`
	SMTPUsername                 *string   `json:"SMTP_USERNAME"`
	SMTPPassword                 *string   `json:"SMTP_PASSWORD"`
	SMTPUseTLS                   *bool     `json:"SMTP_USE_TLS"`
	AuthToken                    *string   `json:"AUTH_TOKEN"`
	WPCOMNotifyEnable            *bool     `json:"WPCOM_NOTIFY_ENABLE"`
	WPCOMNotifyURL               *string   `json:"WPCOM_NOTIFY_URL"`
	DBDSN                        *string   `json:"DB_DSN"`
	DBHost                       *string   `json:"DB_HOST"`
	DBPort                       *int      `json:"DB_PORT"`
	DBUser                       *string   `json:"DB_USER"`
	DBPassword                   *string   `json:"DB_PASSWORD"`
	DBName                       *string   `json:"DB_NAME"`
	UserAgent                    *string   `json:"USER_AGENT"`
	CABundle                     *string   `json:"CA_BUNDLE"`
	DNSResolver                  *string   `json:"DNS_RESOLVER"`
	SourceAddr                   *string   `json:"SOURCE_ADDR"`
	NATSURL                      *string   `json:"NATS_URL"`
	NATSReplicas                 *int      `json:"NATS_REPLICAS"`
	NATSStoreDir                 *string   `json:"NATS_STORE_DIR"`
	NATSEmbeddedAddr             *string   `json:"NATS_EMBEDDED_ADDR"`
	NATSUser                     *string   `json:"NATS_USER"`
	NATSPassword                 *string   `json:"NATS_PASSWORD"`
	NATSCredsFile                *string   `json:"NATS_CREDS_FILE"`
	Region                       *string   `json:"REGION"`
	NodeID                       *string   `json:"NODE_ID"`
	Capacity                     *int      `json:"CAPACITY"`
	RolloutBucketMin             *int      `json:"ROLLOUT_BUCKET_MIN"`
	RolloutBucketMax             *int      `json:"ROLLOUT_BUCKET_MAX"`
	NodeTTLSec                   *int      `json:"NODE_TTL_SEC"`
	LeaderTTLSec                 *int      `json:"LEADER_TTL_SEC"`
	SiteSyncIntervalSec          *int      `json:"SITE_SYNC_INTERVAL_SEC"`
	SiteFullSyncMin              *int      `json:"SITE_FULL_SYNC_MIN"`
	MinCheckIntervalSec          *int      `json:"MIN_CHECK_INTERVAL_SEC"`
	MaxConcurrentChecks          *int      `json:"MAX_CONCURRENT_CHECKS"`
	ResultBuffer                 *int      `json:"RESULT_BUFFER"`
	HistorySuccessSampleSec      *int      `json:"HISTORY_SUCCESS_SAMPLE_SEC"`
	RetrySchedule                *[]string `json:"RETRY_SCHEDULE"`
	DeliveryWorkers              *int      `json:"DELIVERY_WORKERS"`
	DeliveryTimeoutSec           *int      `json:"DELIVERY_TIMEOUT_SEC"`
	APIAddr                      *string   `json:"API_ADDR"`
	OpsAddr                      *string   `json:"OPS_ADDR"`
	ShutdownTimeoutSec           *int      `json:"SHUTDOWN_TIMEOUT_SEC"`
}

// retiredKeys are Jetmon v2 keys the mesh does not use. They load with one
// warning each (the hint says what replaced them) so an existing Jetmon
// config file keeps working.
func retiredKeys() map[string]string {
	return map[string]string{
		"NUM_WORKERS":                  "use MAX_CONCURRENT_CHECKS",
		"NUM_TO_PROCESS":               "unused since Jetmon v2",
		"DATASET_SIZE":                 "probers receive sites over NATS; there are no rounds",
		"WORKER_MAX_MEM_MB":            "probers hold sites in memory with bounded buffers",
		"BUCKET_TARGET":                "the coordinator assigns buckets by prober CAPACITY",
		"BUCKET_HEARTBEAT_GRACE_SEC":   "use NODE_TTL_SEC",
		"PINNED_BUCKET_MIN":            "use ROLLOUT_BUCKET_MIN for the mesh's range",
		"PINNED_BUCKET_MAX":            "use ROLLOUT_BUCKET_MAX for the mesh's range",
		"BUCKET_NO_MIN":                "use ROLLOUT_BUCKET_MIN for the mesh's range",
		"BUCKET_NO_MAX":                "use ROLLOUT_BUCKET_MAX for the mesh's range",
		"BATCH_SIZE":                   "unused since Jetmon v2",
		"VERIFLIER_BATCH_SIZE":         "verifliers answer one request at a time over NATS",
		"SQL_UPDATE_BATCH":             "unused since Jetmon v2",
		"DB_CONFIG_UPDATES_MIN":        "use SITE_SYNC_INTERVAL_SEC",
		"STATS_UPDATE_INTERVAL_MS":     "metrics are scraped from OPS_ADDR/metrics",
		"STATSD_SEND_MEM_USAGE":        "metrics are scraped from OPS_ADDR/metrics",
		"TIME_BETWEEN_NOTICES_MIN":     "use ALERT_COOLDOWN_MINUTES",
		"MIN_TIME_BETWEEN_ROUNDS_SEC":  "use MIN_CHECK_INTERVAL_SEC",
		"USE_VARIABLE_CHECK_INTERVALS": "each site is always checked at its own check_interval",
		"DASHBOARD_PORT":               "use OPS_ADDR and `jetmon mesh status`",
		"DASHBOARD_BIND_ADDR":          "use OPS_ADDR",
		"API_PORT":                     "use API_ADDR",
		"DELIVERY_OWNER_HOST":          "any number of deliverers share the JetStream work queues",
		"DEBUG_PORT":                   "pprof is served on OPS_ADDR",
		"VERIFIERS":                    "verifliers join over NATS by REGION",
		"BODY_READ_MAX_BYTES":          "the checker's body limits are fixed (64 KiB, 1 MiB for keywords)",
		"BODY_READ_MAX_MS":             "the body read is bounded by the check timeout",
		"KEYWORD_READ_MAX_BYTES":       "the checker's body limits are fixed (64 KiB, 1 MiB for keywords)",
		"KEYWORD_READ_MAX_MS":          "the body read is bounded by the check timeout",
	}
}
