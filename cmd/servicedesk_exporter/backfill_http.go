package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/servicedesk-exporter/servicedesk_exporter/backfill"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
)

const (
	// maxBackfills bounds the backfills served at once: each keeps a core
	// busy for as long as the file takes to write.
	maxBackfills = 1
	// backfillWriteGrace is how long one write of the response may take;
	// the server's WriteTimeout would cut a backfill that takes minutes.
	backfillWriteGrace = time.Minute
)

var backfillParams = []string{"from", "to", "step", "source", "label"}

// newBackfillHandler serves GET /-/backfill?from=&to=&step=&source=&label=
// with the parameters of the backfill command: the same generator, reading
// the running exporter's own store. It is behind the same --web.config.file
// (TLS, basic auth) as /metrics. The default instance label is the host the
// request was sent to: when Prometheus scrapes that same address, the
// imported series continue the scraped ones.
func newBackfillHandler(cfg func() *config.Config, st backfill.Store, logger *slog.Logger) http.Handler {
	running := make(chan struct{}, maxBackfills)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "backfill needs GET", http.StatusMethodNotAllowed)
			return
		}
		select {
		case running <- struct{}{}:
			defer func() { <-running }()
		default:
			w.Header().Set("Retry-After", "60")
			http.Error(w, "a backfill is being written already; try again when it is done", http.StatusTooManyRequests)
			return
		}
		req, err := backfillQuery(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		opts, err := req.options(cfg(), time.Now())
		if err == nil {
			opts, err = backfill.Plan(st, opts)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}

		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="servicedesk-backfill.om"`)
		w.Header().Add("Vary", "Accept-Encoding")
		var out io.Writer = &deadlineWriter{w: w, rc: http.NewResponseController(w)}
		var zw *gzip.Writer
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw, _ = gzip.NewWriterLevel(out, gzip.BestSpeed)
			out = zw
		}
		stats, err := backfill.Write(r.Context(), out, st, opts)
		if err == nil && zw != nil {
			err = zw.Close()
		}
		if err != nil {
			// The status is sent; a response without "# EOF" is what tells
			// the client (and promtool) that it is incomplete.
			logger.Warn("backfill aborted", "err", err)
			return
		}
		logBackfill(logger, "backfill served", r.RemoteAddr, stats)
	})
}

// backfillQuery reads the endpoint's parameters; unknown ones are refused,
// so a typo does not silently select everything.
func backfillQuery(r *http.Request) (backfillRequest, error) {
	q := r.URL.Query()
	for name := range q {
		if !slices.Contains(backfillParams, name) {
			return backfillRequest{}, fmt.Errorf("unknown parameter %q; the parameters are %s", name, strings.Join(backfillParams, ", "))
		}
	}
	req := backfillRequest{from: q.Get("from"), to: q.Get("to"), sources: q["source"], step: backfill.DefaultStep,
		labels: map[string]string{"instance": r.Host}}
	if s := q.Get("step"); s != "" {
		d, err := model.ParseDuration(s)
		if err != nil {
			return req, fmt.Errorf("step: %w", err)
		}
		req.step = time.Duration(d)
	}
	for _, l := range q["label"] {
		name, value, ok := strings.Cut(l, "=")
		if !ok {
			return req, fmt.Errorf("label %q is not NAME=VALUE", l)
		}
		req.labels[name] = value
	}
	return req, nil
}

// deadlineWriter moves the connection's write deadline on before every
// write, so that a response taking minutes is not cut by the server's
// WriteTimeout while a stalled client still is.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(backfillWriteGrace))
	return d.w.Write(p)
}
