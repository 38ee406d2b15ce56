package meshstatus

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/jetmon-mesh/jetmon/internal/checkreport"
)

// WriteJSON prints s as indented JSON.
func WriteJSON(w io.Writer, s Status) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

// WriteText prints s for a terminal. Strings that come from the mesh are
// sanitised: a hostile node id cannot drive the terminal.
func WriteText(w io.Writer, s Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(tw, format+"\n", args...) }
	if s.Leader == nil {
		p("leader\tNONE: no coordinator holds the lease")
	} else {
		epoch := "unknown"
		if s.Leader.Epoch > 0 {
			epoch = fmt.Sprint(s.Leader.Epoch)
		}
		p("leader\t%s (region %s, epoch %s, since %s)", clean(s.Leader.NodeID), clean(s.Leader.Region),
			epoch, s.Leader.StartedAt.Format("2006-01-02T15:04:05Z"))
	}
	p("rollout range\t%d-%d", s.Rollout.Min, s.Rollout.Max)
	p("unassigned buckets\t%s", ranges(s.Unassigned, "none"))
	if s.Backlog != nil {
		p("results backlog\t%d pending, %d being committed (%d in stream)", s.Backlog.Pending, s.Backlog.AckPending, s.Backlog.Stream)
	} else {
		p("results backlog\tunknown (no coordinator consumer yet)")
	}
	p("nodes\t%s", counts(s.Counts))
	p("")
	p("ROLE\tNODE\tREGION\tVERSION\tCAPACITY\tLAST SEEN\tSTATS")
	for _, n := range s.Nodes {
		p("%s\t%s\t%s\t%s\t%d\t%.1fs ago\t%s", clean(n.Role), clean(n.NodeID), clean(n.Region), clean(n.Version),
			n.Capacity, n.AgeSec, stats(n.Stats))
	}
	p("")
	p("PROBER\tREGION\tEPOCH\tBUCKETS\tRANGES\tALIVE")
	for _, a := range s.Assignments {
		p("%s\t%s\t%d\t%d\t%s\t%v", clean(a.NodeID), clean(a.Region), a.Epoch, a.Buckets, ranges(a.Ranges, "-"), a.Alive)
	}
	for _, e := range s.Errors {
		p("WARN\t%s", clean(e))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func clean(s string) string { return checkreport.Sanitize(s) }

func ranges(rs []Range, none string) string {
	if len(rs) == 0 {
		return none
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%d-%d", r.Min, r.Max)
	}
	return strings.Join(parts, ",")
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, role := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", role, m[role]))
	}
	return strings.Join(parts, " ")
}

func stats(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", clean(k), m[k]))
	}
	return strings.Join(parts, " ")
}
