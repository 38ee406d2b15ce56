package testsite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxControlBody bounds a PUT body; a behaviour is a few hundred bytes.
const maxControlBody = 64 << 10

// behaviourJSON is the control API's behaviour object.
type behaviourJSON struct {
	Site      string         `json:"site,omitempty"`
	Behaviour Kind           `json:"behaviour"`
	Status    int            `json:"status,omitempty"`
	DelayMS   int64          `json:"delay_ms,omitempty"`
	Keyword   string         `json:"keyword,omitempty"`
	Location  string         `json:"location,omitempty"`
	Clients   map[string]int `json:"clients,omitempty"`
}

func toJSON(site string, b Behaviour) behaviourJSON {
	return behaviourJSON{
		Site: site, Behaviour: b.Kind, Status: b.Status, DelayMS: b.Delay.Milliseconds(),
		Keyword: b.Keyword, Location: b.Location, Clients: b.Clients,
	}
}

func (j behaviourJSON) behaviour() Behaviour {
	return Behaviour{
		Kind: j.Behaviour, Status: j.Status, Delay: time.Duration(j.DelayMS) * time.Millisecond,
		Keyword: j.Keyword, Location: j.Location, Clients: j.Clients,
	}
}

// controlHandler is the control API, mounted at ControlPrefix:
//
//	GET    /_control/              Info (listen addresses, CA file)
//	GET    /_control/ca.pem        the CA certificate
//	GET    /_control/sites         {"sites": {"<site>": behaviour, ...}}
//	DELETE /_control/sites         reset every site
//	GET    /_control/sites/<site>  the site's behaviour
//	PUT    /_control/sites/<site>  set it: {"behaviour":"status","status":503}
//	DELETE /_control/sites/<site>  reset it to ok
func (f *Fleet) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ControlPrefix+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, f.Info())
	})
	mux.HandleFunc("GET "+ControlPrefix+"ca.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(f.certs.caPEM)
	})
	mux.HandleFunc("GET "+ControlPrefix+"sites", f.listSites)
	mux.HandleFunc("DELETE "+ControlPrefix+"sites", func(w http.ResponseWriter, _ *http.Request) {
		if err := f.ResetAll(); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+ControlPrefix+"sites/{site}", func(w http.ResponseWriter, r *http.Request) {
		site := NormalizeSite(r.PathValue("site"))
		writeJSON(w, http.StatusOK, toJSON(site, f.Behaviour(site)))
	})
	mux.HandleFunc("PUT "+ControlPrefix+"sites/{site}", f.putSite)
	mux.HandleFunc("DELETE "+ControlPrefix+"sites/{site}", func(w http.ResponseWriter, r *http.Request) {
		if err := f.Reset(r.PathValue("site")); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (f *Fleet) listSites(w http.ResponseWriter, _ *http.Request) {
	sites := f.Sites()
	out := make(map[string]behaviourJSON, len(sites))
	for site, b := range sites {
		out[site] = toJSON("", b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sites": out})
}

func (f *Fleet) putSite(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	var j behaviourJSON
	if err := dec.Decode(&j); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("decode behaviour: %w", err))
		return
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, errors.New("decode behaviour: trailing data after the object"))
		return
	}
	site := NormalizeSite(r.PathValue("site"))
	if err := f.Set(site, j.behaviour()); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrInvalid) {
			code = http.StatusBadRequest
		}
		writeError(w, code, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(site, f.Behaviour(site)))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
