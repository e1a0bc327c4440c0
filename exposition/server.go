package exposition

import (
	"net/http"
	"time"
)

// NewServer is the HTTP server /metrics is served by. Its timeouts bound
// a client that sends or reads too slowly (a scrape of a large body over a
// slow link takes seconds, never a minute) and close idle keep-alive
// connections that Prometheus, scraping every 15–60 s, would otherwise hold
// open forever.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}
