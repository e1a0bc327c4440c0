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
	mux.Handle(f.metricsPath, exposition.NewHandler(d.registry, func() any { return d.store.Snapshot() }, f.maxRequests, d.logger))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if ok, waiting := d.ready(); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "Not ready: waiting for the first successful poll of %s\n", strings.Join(waiting, ", "))
			return
		}
		fmt.Fprintln(w, "Ready")
	})
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
		})
		if err != nil {
			d.logger.Error("landing page unavailable", "err", err)
		} else {
			mux.Handle("/", landing)
		}
	}
	return mux
}

// sourcesHTML lists source names and types only: URLs and credentials stay
// off the page.
func sourcesHTML(d *daemon) string {
	var b strings.Builder
	b.WriteString("<h2>Sources</h2><ul>")
	for _, n := range d.sourceNames() {
		b.WriteString("<li>" + html.EscapeString(n) + "</li>")
	}
	b.WriteString("</ul>")
	return b.String()
}
