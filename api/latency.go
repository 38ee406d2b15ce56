package api

import (
	"net/http"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ResponseTimeResponse is a site's response time in a window, from the
// hourly roll-ups: mean, min and max (the roll-ups keep no raw samples, so
// there are no percentiles).
type ResponseTimeResponse struct {
	Window  Window             `json:"window" doc:"roll-up hours overlapping the window count whole"`
	Samples int64              `json:"samples" doc:"checks with a response time"`
	MeanMs  *int64             `json:"mean_ms" doc:"null without samples"`
	MinMs   *int64             `json:"min_ms"`
	MaxMs   *int64             `json:"max_ms"`
	Hourly  []ResponseTimeHour `json:"hourly"`
}

// ResponseTimeHour is one roll-up hour.
type ResponseTimeHour struct {
	Hour    time.Time `json:"hour"`
	Checks  int64     `json:"checks"`
	Samples int64     `json:"samples"`
	MeanMs  *int64    `json:"mean_ms"`
	MinMs   *int64    `json:"min_ms"`
	MaxMs   *int64    `json:"max_ms"`
}

// TimingBreakdownResponse is a site's mean time per check phase in a
// window, from the hourly roll-ups.
type TimingBreakdownResponse struct {
	Window     Window `json:"window"`
	Samples    int64  `json:"samples"`
	MeanDNSMs  *int64 `json:"mean_dns_ms" doc:"null without samples; a phase that did not complete counts 0"`
	MeanTCPMs  *int64 `json:"mean_tcp_ms"`
	MeanTLSMs  *int64 `json:"mean_tls_ms"`
	MeanTTFBMs *int64 `json:"mean_ttfb_ms"`
	MeanRTTMs  *int64 `json:"mean_rtt_ms"`
}

func (s *Server) rollups(r *http.Request) (Window, []uptime.HourlyRollup, error) {
	site, w, err := s.statsSite(r)
	if err != nil {
		return Window{}, nil, err
	}
	rows, err := s.opts.Stats.Rollups(r.Context(), site.BlogID, w.From.Truncate(time.Hour), w.To)
	if err != nil {
		return Window{}, nil, storeErr(err, "")
	}
	return w, rows, nil
}

// getSiteResponseTime is GET /sites/{site_id}/response-time.
func (s *Server) getSiteResponseTime(r *http.Request, _ *NoBody) (ResponseTimeResponse, error) {
	w, rows, err := s.rollups(r)
	if err != nil {
		return ResponseTimeResponse{}, err
	}
	out := ResponseTimeResponse{Window: w, Hourly: make([]ResponseTimeHour, 0, len(rows))}
	var sum int64
	for _, h := range rows {
		out.Samples += h.RTTSamples
		sum += h.SumRTTMs
		out.MinMs = minPtr(out.MinMs, h.MinRTTMs)
		out.MaxMs = maxPtr(out.MaxMs, h.MaxRTTMs)
		out.Hourly = append(out.Hourly, ResponseTimeHour{
			Hour: utc(h.Hour), Checks: h.Checks, Samples: h.RTTSamples, MeanMs: mean(h.SumRTTMs, h.RTTSamples),
			MinMs: copyPtr(h.MinRTTMs), MaxMs: copyPtr(h.MaxRTTMs),
		})
	}
	out.MeanMs = mean(sum, out.Samples)
	return out, nil
}

// getSiteTimingBreakdown is GET /sites/{site_id}/timing-breakdown.
func (s *Server) getSiteTimingBreakdown(r *http.Request, _ *NoBody) (TimingBreakdownResponse, error) {
	w, rows, err := s.rollups(r)
	if err != nil {
		return TimingBreakdownResponse{}, err
	}
	var n, dns, tcp, tlsMs, ttfb, rtt int64
	for _, h := range rows {
		n += h.RTTSamples
		dns += h.SumDNSMs
		tcp += h.SumTCPMs
		tlsMs += h.SumTLSMs
		ttfb += h.SumTTFBMs
		rtt += h.SumRTTMs
	}
	return TimingBreakdownResponse{Window: w, Samples: n, MeanDNSMs: mean(dns, n), MeanTCPMs: mean(tcp, n),
		MeanTLSMs: mean(tlsMs, n), MeanTTFBMs: mean(ttfb, n), MeanRTTMs: mean(rtt, n)}, nil
}

// mean is sum/n rounded, or nil when n is 0.
func mean(sum, n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return ptr((sum + n/2) / n)
}

func copyPtr(p *int64) *int64 {
	if p == nil {
		return nil
	}
	return ptr(*p)
}

func minPtr(cur, v *int64) *int64 {
	if v == nil || (cur != nil && *cur <= *v) {
		return cur
	}
	return ptr(*v)
}

func maxPtr(cur, v *int64) *int64 {
	if v == nil || (cur != nil && *cur >= *v) {
		return cur
	}
	return ptr(*v)
}
