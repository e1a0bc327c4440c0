package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDoWithinBoundsTheWaitForAnAnswer(t *testing.T) {
	release := make(chan struct{})
	env := newClientEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = w.Write([]byte(`{"ok": true}`))
	}), func(c *ClientConfig) { c.MaxRetries = 0 })
	defer close(release)

	var out struct {
		OK bool `json:"ok"`
	}
	if err := env.client.DoWithin(context.Background(), 5*time.Second, Request{Endpoint: "fast", Method: http.MethodGet, Path: "fast"}, &out); err != nil || !out.OK {
		t.Fatalf("fast answer: %v, %+v", err, out)
	}
	began := time.Now()
	err := env.client.DoWithin(context.Background(), 100*time.Millisecond, Request{Endpoint: "slow", Method: http.MethodGet, Path: "slow"}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "no answer within 100ms: ") {
		t.Fatalf("slow answer: %v, want no answer within 100ms", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("gave up after %v", took)
	}
	// The caller's own deadline is not reported as the bounded wait.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := env.client.DoWithin(ctx, time.Minute, Request{Endpoint: "slow", Method: http.MethodGet, Path: "slow"}, nil); err == nil ||
		strings.Contains(err.Error(), "no answer within") {
		t.Errorf("caller's deadline: %v", err)
	}
}
