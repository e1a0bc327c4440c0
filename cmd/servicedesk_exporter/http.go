package main

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/servicedesk-exporter/servicedesk_exporter/exposition"
)

func newMux(d *daemon, f flags, reloadCh chan<- chan error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(f.metricsPath, exposition.NewHandler(d.registry, d.DataVersion, f.maxRequests, d.logger))
	mux.Handle("/-/backfill", newBackfillHandler(d.Config, d.Store(), d.logger))
	mux.Handle("/-/healthy", healthyHandler())
	mux.Handle("/-/ready", readyHandler(d, true))
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "reload needs POST or PUT", http.StatusMethodNotAllowed)
			return
		}
		rc := make(chan error)
		select {
		case reloadCh <- rc:
		case <-r.Context().Done():
			return
		}
		if err := <-rc; err != nil {
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded")
	})
	if f.metricsPath != "/" {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			// Built per request: the source list changes with reloads, and
			// the landing page is not on any hot path.
			landing, err := web.NewLandingPage(web.LandingConfig{
				Name:        "Service Desk Exporter",
				Description: "Prometheus exporter for internal service desks: first response, resolution, reopens, SLA and satisfaction.",
				Version:     version.Info(),
				Links: []web.LandingLinks{
					{Address: f.metricsPath, Text: "Metrics"},
					{Address: "/-/healthy", Text: "Health"},
					{Address: "/-/ready", Text: "Readiness", Description: "ready once every source completed a poll"},
				},
				ExtraHTML: sourcesHTML(d),
				Profiling: "false", // no /debug/pprof is served
			})
			if err != nil {
				http.Error(w, "landing page unavailable: "+err.Error(), http.StatusInternalServerError)
				return
			}
			landing.ServeHTTP(w, r)
		})
	}
	return mux
}

// sourcesHTML lists source names, types and readiness only: URLs and
// credentials stay off the page.
func sourcesHTML(d *daemon) string {
	var b strings.Builder
	b.WriteString("<h2>Sources</h2><ul>")
	for _, s := range d.Sources() {
		state := "waiting for its first successful poll"
		if s.Ready {
			state = "ready"
		}
		b.WriteString("<li>" + html.EscapeString(s.Name+" ("+s.Type+"): "+state) + "</li>")
	}
	b.WriteString("</ul>")
	return b.String()
}
