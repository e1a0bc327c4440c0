package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// readiness is what the health endpoints need from the daemon.
type readiness interface {
	// Ready reports whether every source completed a poll, and if not,
	// which sources are still waiting.
	Ready() (bool, []string)
}

func healthyHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	}
}

// readyHandler answers 200 once every source completed a poll, 503 before.
// Only a listener behind --web.config.file names the waiting sources: the
// health listener has no authentication, and source names say what a site
// watches.
func readyHandler(r readiness, nameSources bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		ok, waiting := r.Ready()
		if ok {
			fmt.Fprintln(w, "Ready")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		if nameSources {
			fmt.Fprintf(w, "Not ready: waiting for the first successful poll of %s\n", strings.Join(waiting, ", "))
			return
		}
		fmt.Fprintf(w, "Not ready: %d sources waiting for their first successful poll\n", len(waiting))
	}
}

// healthServer is the optional --web.health-address listener: plain HTTP,
// /-/healthy and /-/ready only, no TLS and no basic auth. It exists because
// exporter-toolkit's web config guards every path of the main listener,
// and probes such as a kubelet's httpGet cannot send a password kept in a
// Secret. A nil *healthServer is a disabled one.
type healthServer struct {
	srv  *http.Server
	errc chan error
}

// startHealthServer binds addr at once, so a bad address fails the start
// instead of surfacing later, then serves in the background. An empty addr
// disables it and returns nil.
func startHealthServer(addr string, r readiness, logger *slog.Logger) (*healthServer, error) {
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/-/healthy", healthyHandler())
	mux.Handle("/-/ready", readyHandler(r, false))
	h := &healthServer{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       time.Minute,
		},
		errc: make(chan error, 1),
	}
	logger.Info("health listener without authentication", "address", l.Addr().String(), "paths", "/-/healthy /-/ready")
	go func() { h.errc <- h.srv.Serve(l) }()
	return h, nil
}

// errors delivers the listener's failure; never for a disabled one.
func (h *healthServer) errors() <-chan error {
	if h == nil {
		return nil
	}
	return h.errc
}

func (h *healthServer) shutdown(ctx context.Context) error {
	if h == nil {
		return nil
	}
	if err := h.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
