package coordinator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// triggerResponse is the reply of site.trigger.
type triggerResponse struct {
	BlogID int64       `json:"blog_id"`
	NodeID string      `json:"node_id"` // the prober that checked
	Region string      `json:"region"`
	Closed int         `json:"closed"` // events the success closed
	Result checkReport `json:"result"`
}

// checkReport is a check result with internal/checkreport's field names.
type checkReport struct {
	URL             string     `json:"url"`
	FinalURL        string     `json:"final_url"`
	Method          string     `json:"method"`
	Success         bool       `json:"success"`
	HTTPCode        int        `json:"http_code"`
	ErrorCode       int        `json:"error_code"`
	ErrorName       string     `json:"error_name"`
	StatusType      string     `json:"status_type"`
	KeywordRule     string     `json:"keyword_rule"`
	RedirectChanged bool       `json:"redirect_changed"`
	RTTMs           int64      `json:"rtt_ms"`
	DNSMs           int64      `json:"dns_ms"`
	TCPMs           int64      `json:"tcp_ms"`
	TLSMs           int64      `json:"tls_ms"`
	TTFBMs          int64      `json:"ttfb_ms"`
	TLSVersion      string     `json:"tls_version"`
	CipherSuite     string     `json:"cipher_suite"`
	SSLExpiry       *time.Time `json:"ssl_expiry"`
	CheckedAt       time.Time  `json:"checked_at"`
}

// reportOf flattens r.
func reportOf(r uptime.Result) checkReport {
	rep := checkReport{
		URL: r.URL, FinalURL: r.FinalURL, Method: r.Method, Success: r.Success, HTTPCode: r.HTTPCode,
		ErrorCode: int(r.ErrorCode), ErrorName: r.ErrorCode.String(), StatusType: r.StatusType(),
		KeywordRule: string(r.KeywordRule), RedirectChanged: r.RedirectChanged,
		RTTMs: r.RTT.Milliseconds(), DNSMs: r.DNS.Milliseconds(), TCPMs: r.TCP.Milliseconds(),
		TLSMs: r.TLS.Milliseconds(), TTFBMs: r.TTFB.Milliseconds(), CheckedAt: r.CheckedAt.UTC(),
	}
	if rep.Method == "" {
		rep.Method = "GET"
	}
	if r.TLSVersion != 0 {
		rep.TLSVersion = tls.VersionName(r.TLSVersion)
	}
	if r.CipherSuite != 0 {
		rep.CipherSuite = tls.CipherSuiteName(r.CipherSuite)
	}
	if r.SSLExpiry != nil {
		exp := r.SSLExpiry.UTC()
		rep.SSLExpiry = &exp
	}
	return rep
}

// triggerHandler answers site.trigger: the prober owning the site's bucket
// checks it now, and the result is decided as a trigger (a success closes
// every open event; a failure changes nothing). The reply carries the
// result.
func (c *Coordinator) triggerHandler(w *termWork, done <-chan struct{}) CommandHandler {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		req, err := parseCloseRequest(payload)
		if err != nil {
			return nil, err
		}
		blog := req.BlogID
		recs, err := c.lookup(ctx, []int64{blog})
		if err != nil {
			return nil, err
		}
		rec, ok := recs[blog]
		if !ok {
			return nil, cmdErr(codeNotFound, "blog %d: no site", blog)
		}
		owner, ok := w.owners.owner(rec.Site.Bucket)
		if !ok {
			return nil, cmdErr(codeUnavailable, "no prober owns bucket %d", rec.Site.Bucket)
		}
		timeout := rec.Site.Spec.Timeout
		if timeout <= 0 {
			timeout = c.opts.CheckTimeout
		}
		cctx, cancel := context.WithTimeout(ctx, timeout+verifyGrace)
		res, err := c.opts.Prober.Check(cctx, owner.NodeID, rec.Site.Spec)
		cancel()
		if err != nil {
			return nil, cmdErr(codeUnavailable, "prober %s: %v", owner.NodeID, err)
		}
		res.BlogID = blog
		pr := uptime.ProbeResult{Result: res, Bucket: rec.Site.Bucket, Region: owner.Region, NodeID: owner.NodeID}
		in := incident.TriggerInput{Result: pr, Source: incident.SourceOperator}
		out, err := w.submit(ctx, done, incidentCommand{blogID: blog, input: in, site: &rec.Site})
		if err != nil {
			return nil, err
		}
		return json.Marshal(triggerResponse{BlogID: blog, NodeID: owner.NodeID, Region: owner.Region,
			Closed: out.closed, Result: reportOf(res)})
	}
}
