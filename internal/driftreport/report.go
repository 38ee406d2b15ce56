package driftreport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Report defaults and names.
const (
	// Command names the report in the JSON envelope.
	Command = "rollout projection-drift"
	// DefaultLimit is how many drift rows --limit prints by default.
	DefaultLimit = 50
	// SummaryTop is how many summary groups are printed; cause totals cover all.
	SummaryTop = 20
)

// Operator texts, as Jetmon v2 prints them.
const (
	nextStep       = "review the summary first, then inspect listed event rows before making any site_status repair"
	changedNote    = "drift changed while the report was running; rerun projection-drift before repair"
	repairGuidance = "confirm the authoritative event rows first; then repair the legacy site_status projection " +
		"inside a reviewed DB change or by rerunning the code path that writes the event and projection together"
)

// Table layouts: column widths of Jetmon v2's report.
const (
	summaryFormat = "%-8s %-7s %-22s %-22s %-11s %-12s %-35s %s"
	rowsFormat    = "%-12s %-8s %-22s %-22s %-10s %-11s %-35s %s"
)

// Source reads projection drift; *sqlstore.DriftReader implements it. Each
// method is one read-only query, errors are returned as they come.
type Source interface {
	Count(ctx context.Context, r uptime.BucketRange) (int, error)
	Summary(ctx context.Context, r uptime.BucketRange) ([]sqlstore.DriftGroup, error)
	Rows(ctx context.Context, r uptime.BucketRange, limit int) ([]sqlstore.DriftRow, error)
}

// Report is a built projection-drift report.
type Report struct {
	Range uptime.BucketRange
	Drift int    // drifting sites counted when the report started
	Lines []Line // everything to print, in order
}

// Failure is the report's verdict: nil without drift, else the error the
// command ends with ("legacy projection drift=N in range A-B").
func (r Report) Failure() error {
	if r.Drift == 0 {
		return nil
	}
	return fmt.Errorf("legacy projection drift=%d in range %d-%d", r.Drift, r.Range.Min, r.Range.Max)
}

func (r *Report) add(level Level, format string, args ...any) {
	r.Lines = append(r.Lines, Line{Level: level, Message: fmt.Sprintf(format, args...)})
}

// Build reads drift in r from src and returns the report, printing at most
// limit drift rows. On a read error it returns the lines built so far with
// the error.
func Build(ctx context.Context, src Source, r uptime.BucketRange, limit int) (Report, error) {
	rep := Report{Range: r}
	if limit <= 0 {
		return rep, fmt.Errorf("limit %d must be > 0", limit)
	}
	n, err := src.Count(ctx, r)
	if err != nil {
		return rep, fmt.Errorf("count legacy projection drift in range %d-%d: %w", r.Min, r.Max, err)
	}
	rep.add(LevelInfo, "projection_drift_range=%d-%d", r.Min, r.Max)
	rep.add(LevelInfo, "legacy_projection_drift=%d", n)
	if n == 0 {
		rep.add(LevelPass, "legacy_projection_drift=0")
		return rep, nil
	}
	rep.Drift = n
	rep.add(LevelWarn, "legacy_projection_drift_requires_manual_review=%d", n)
	rep.add(LevelWarn, "projection_drift_next_step=%q", nextStep)

	groups, err := src.Summary(ctx, r)
	if err != nil {
		return rep, fmt.Errorf("summarize legacy projection drift in range %d-%d: %w", r.Min, r.Max, err)
	}
	rep.summary(groups)
	rows, err := src.Rows(ctx, r, limit)
	if err != nil {
		return rep, fmt.Errorf("list legacy projection drift in range %d-%d: %w", r.Min, r.Max, err)
	}
	rep.rows(rows, limit)

	again, err := src.Count(ctx, r)
	if err != nil {
		return rep, fmt.Errorf("recount legacy projection drift in range %d-%d: %w", r.Min, r.Max, err)
	}
	if again != n {
		rep.add(LevelWarn, "projection_drift_count_changed=%d recounted=%d note=%q", n, again, changedNote)
	}
	rep.add(LevelInfo, "projection_drift_repair=manual_confirmation_required")
	rep.add(LevelInfo, "projection_drift_repair_guidance=%s", repairGuidance)
	return rep, nil
}

// summary prints the top groups, what is hidden, a changed total and the
// cause guidance computed over every group.
func (r *Report) summary(groups []sqlstore.DriftGroup) {
	r.add(LevelSection, "projection drift summary")
	if len(groups) == 0 {
		r.add(LevelInfo, "projection_drift_summary=none")
	} else {
		r.add(LevelOutput, summaryFormat, "BUCKET", "COUNT", "SITE_STATUS", "EXPECTED", "OPEN_EVENTS", "SAMPLE_BLOG", "CAUSE", "EVENT_STATE")
	}
	for _, g := range groups[:min(len(groups), SummaryTop)] {
		r.add(LevelOutput, summaryFormat, fmt.Sprint(g.Bucket), fmt.Sprint(g.Count), status(g.SiteStatus), status(g.Expected),
			fmt.Sprint(g.OpenEvents), fmt.Sprint(g.SampleBlog), string(g.Cause), state(g.EventState))
	}
	if hidden := groups[min(len(groups), SummaryTop):]; len(hidden) > 0 {
		rows := 0
		for _, g := range hidden {
			rows += g.Count
		}
		r.add(LevelInfo, "projection_drift_summary_groups_truncated=%d", len(hidden))
		r.add(LevelInfo, "projection_drift_summary_rows_hidden=%d", rows)
	}
	totals := map[sqlstore.DriftCause]int{}
	summarized := 0
	for _, g := range groups {
		totals[g.Cause] += g.Count
		summarized += g.Count
	}
	if summarized != r.Drift {
		r.add(LevelWarn, "projection_drift_count_changed=%d summarized=%d note=%q", r.Drift, summarized, changedNote)
	}
	causes := slices.SortedFunc(maps.Keys(totals), func(a, b sqlstore.DriftCause) int {
		return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b))
	})
	for _, c := range causes {
		r.add(LevelWarn, "projection_drift_cause=%s count=%d action=%q", c, totals[c], Guidance(c))
	}
}

// rows prints the listed drift rows and how many the limit cut.
func (r *Report) rows(rows []sqlstore.DriftRow, limit int) {
	r.add(LevelSection, "projection drift rows")
	if len(rows) == 0 {
		r.add(LevelInfo, "projection_drift_rows=none")
	} else {
		r.add(LevelOutput, rowsFormat, "BLOG_ID", "BUCKET", "SITE_STATUS", "EXPECTED", "EVENT_ID", "OPEN_EVENTS", "CAUSE", "EVENT_STATE")
	}
	for _, d := range rows {
		event := "-"
		if d.EventID != 0 {
			event = fmt.Sprint(d.EventID)
		}
		r.add(LevelOutput, rowsFormat, fmt.Sprint(d.BlogID), fmt.Sprint(d.Bucket), status(d.SiteStatus), status(d.Expected),
			event, fmt.Sprint(d.OpenEvents), string(d.Cause), state(d.EventState))
	}
	if len(rows) >= limit && r.Drift > len(rows) {
		r.add(LevelInfo, "projection_drift_rows_truncated=%d", r.Drift-len(rows))
	}
}

// Guidance is the operator action printed for a drift cause.
func Guidance(c sqlstore.DriftCause) string {
	switch c {
	case sqlstore.DriftUnexpectedProjectionValue:
		return "the legacy site_status or expected projection value is outside the v1 shape (0, 1 or 2); " +
			"inspect the site row and repair it manually"
	case sqlstore.DriftMultipleOpenHTTPEvents:
		return "the site has more than one open HTTP event; inspect the duplicate open events first " +
			"because the projection uses the worst open state"
	case sqlstore.DriftStaleLegacyDownProjection:
		return "the legacy site row still reports downtime even though no open HTTP downtime event requires it; " +
			"inspect recent close transitions before setting the projection back to running"
	case sqlstore.DriftMissingConfirmedDownProjection:
		return "an open Down event exists but the legacy site row still reports running; " +
			"inspect the eventstore transaction path before continuing rollout"
	case sqlstore.DriftMissingSeemsDownProjection:
		return "an open Seems Down event exists but the legacy site row still reports running; " +
			"inspect first-failure projection writes and retry handling"
	case sqlstore.DriftMissingConfirmedPromotion:
		return "the open event reached Down but the legacy site row is still at Seems Down; " +
			"inspect the verifier-confirmed promotion path"
	case sqlstore.DriftStaleConfirmedDownProjection:
		return "the legacy site row reports confirmed downtime while the open event is only Seems Down; " +
			"inspect recent recovery and false-alarm transitions"
	case sqlstore.DriftUnexpectedOpenEventProjection:
		return "the legacy site row disagrees with an open HTTP event in a non-standard way; " +
			"inspect the event, its transitions and the site row"
	default:
		return "unknown drift cause; inspect the event, its transitions and the site row"
	}
}

// status renders a site_status value as Jetmon does: 1/SITE_RUNNING.
func status(s uptime.LegacyStatus) string {
	switch s {
	case uptime.LegacySiteDown:
		return "0/SITE_DOWN"
	case uptime.LegacySiteRunning:
		return "1/SITE_RUNNING"
	case uptime.LegacySiteConfirmedDown:
		return "2/SITE_CONFIRMED_DOWN"
	default:
		return fmt.Sprintf("%d/UNKNOWN", s)
	}
}

// state renders an event state read from the database: "-" when none,
// control characters as '?'.
func state(s string) string {
	if s == "" {
		return "-"
	}
	return Clean(s)
}

// ResolveRange is the bucket range to report: the flags when both are set
// (nil: not given), else the configured rollout range.
func ResolveRange(bucketMin, bucketMax *int, rollout uptime.BucketRange, bucketTotal int) (uptime.BucketRange, error) {
	switch {
	case bucketMin == nil && bucketMax == nil:
		return rollout, nil
	case bucketMin == nil || bucketMax == nil:
		return uptime.BucketRange{}, errors.New("--bucket-min and --bucket-max must be set together")
	case *bucketMin < 0 || *bucketMax < 0:
		return uptime.BucketRange{}, errors.New("--bucket-min and --bucket-max must be >= 0")
	case *bucketMax < *bucketMin:
		return uptime.BucketRange{}, fmt.Errorf("--bucket-max %d must be >= --bucket-min %d", *bucketMax, *bucketMin)
	case *bucketMax >= bucketTotal:
		return uptime.BucketRange{}, fmt.Errorf("--bucket-max %d must be < BUCKET_TOTAL %d", *bucketMax, bucketTotal)
	}
	return uptime.BucketRange{Min: *bucketMin, Max: *bucketMax}, nil
}
