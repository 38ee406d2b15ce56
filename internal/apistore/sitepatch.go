package apistore

import (
	"errors"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// patchSet turns p into SET assignments of configuration columns and their
// arguments. Active true is not among them (UpdateSite activates one row).
func patchSet(p api.SitePatch) (set []string, args []any, err error) {
	add := func(col string, v any) {
		set = append(set, col+" = ?")
		args = append(args, v)
	}
	if p.URL != nil {
		if *p.URL == "" {
			return nil, nil, errors.New("monitor_url must not be empty")
		}
		add("monitor_url", *p.URL)
	}
	if p.Active != nil && !*p.Active {
		add("monitor_active", 0)
	}
	if p.Bucket != nil {
		add("bucket_no", *p.Bucket)
	}
	if p.CheckIntervalMin != nil {
		add("check_interval", *p.CheckIntervalMin)
	}
	if p.RedirectPolicy != nil {
		policy := *p.RedirectPolicy
		if policy == "" {
			policy = uptime.RedirectFollow
		}
		add("redirect_policy", string(policy))
	}
	if err := patchJSON(p, add); err != nil {
		return nil, nil, err
	}
	if err := patchNullable(p, add); err != nil {
		return nil, nil, err
	}
	return set, args, nil
}

// patchNullable adds the nullable scalar columns of p: "", 0 and the zero
// time store NULL.
func patchNullable(p api.SitePatch, add func(col string, v any)) error {
	if p.Keyword != nil {
		add("check_keyword", nullString(*p.Keyword))
	}
	if p.TimeoutSec != nil {
		var v any
		if *p.TimeoutSec > 0 {
			v = *p.TimeoutSec
		}
		add("timeout_seconds", v)
	}
	if p.MaintenanceStart != nil {
		add("maintenance_start", nullTime(*p.MaintenanceStart))
	}
	if p.MaintenanceEnd != nil {
		add("maintenance_end", nullTime(*p.MaintenanceEnd))
	}
	switch {
	case p.AlertCooldownMin != nil && p.ClearAlertCooldown:
		return errors.New("alert cooldown: set and clear in one patch")
	case p.AlertCooldownMin != nil:
		add("alert_cooldown_minutes", *p.AlertCooldownMin)
	case p.ClearAlertCooldown:
		add("alert_cooldown_minutes", nil)
	}
	return nil
}

// patchJSON adds the JSON columns of p (empty values store NULL).
func patchJSON(p api.SitePatch, add func(col string, v any)) error {
	if p.ForbiddenKeywords != nil {
		v, err := stringsColumn(*p.ForbiddenKeywords)
		if err != nil {
			return err
		}
		add("forbidden_keywords", v)
	}
	if p.Headers != nil {
		v, err := mapColumn(*p.Headers)
		if err != nil {
			return err
		}
		add("custom_headers", v)
	}
	return nil
}
