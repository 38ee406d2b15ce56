package uptime

// Severity orders incident seriousness; higher is worse. Values are Jetmon's
// and are stored in MySQL.
type Severity uint8

// Severities.
const (
	SeverityUp        Severity = 0
	SeverityWarning   Severity = 1
	SeverityDegraded  Severity = 2
	SeveritySeemsDown Severity = 3
	SeverityDown      Severity = 4
)

// State is an incident's label, stored as text so new states need no migration.
type State string

// States.
const (
	StateUp          State = "Up"
	StateWarning     State = "Warning"
	StateDegraded    State = "Degraded"
	StateSeemsDown   State = "Seems Down"
	StateDown        State = "Down"
	StatePaused      State = "Paused"
	StateMaintenance State = "Maintenance"
	StateUnknown     State = "Unknown"
	StateResolved    State = "Resolved"
)

// Reason says why an incident transition happened.
type Reason string

// Transition reasons, as Jetmon v2.
const (
	ReasonOpened               Reason = "opened"
	ReasonSeverityEscalation   Reason = "severity_escalation"
	ReasonSeverityDeescalation Reason = "severity_deescalation"
	ReasonStateChange          Reason = "state_change"
	ReasonVerifierConfirmed    Reason = "verifier_confirmed"
	ReasonVerifierCleared      Reason = "verifier_cleared"
	ReasonProbeCleared         Reason = "probe_cleared"
	ReasonFalseAlarm           Reason = "false_alarm"
	ReasonManualOverride       Reason = "manual_override"
	ReasonMaintenanceSwallowed Reason = "maintenance_swallowed"
	ReasonSuperseded           Reason = "superseded"
	ReasonAutoTimeout          Reason = "auto_timeout"
	ReasonCauseLinked          Reason = "cause_linked"
	ReasonCauseUnlinked        Reason = "cause_unlinked"
)

// Check types of incidents.
const (
	CheckTypeHTTP          = "http"
	CheckTypeTLSExpiry     = "tls_expiry"
	CheckTypeTLSDeprecated = "tls_deprecated"
)

// LegacyStatus is the v1 `site_status` projection value.
type LegacyStatus uint8

// Legacy projection values of jetpack_monitor_sites.site_status.
const (
	LegacySiteDown          LegacyStatus = 0 // open Seems Down
	LegacySiteRunning       LegacyStatus = 1 // no open HTTP incident
	LegacySiteConfirmedDown LegacyStatus = 2 // open Down
)
