package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"
)

func TestExplainUnreachable(t *testing.T) {
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	refused := closedURL(t)
	proxy, _ := url.Parse("http://proxyuser:proxypass@proxy.example:3128")

	tests := []struct {
		name     string
		target   string
		httpCfg  promconfig.HTTPClientConfig
		want     []string
		wantNot  []string
		answered bool // an HTTP answer: no hint
	}{
		{name: "refused", target: refused,
			want:    []string{"connection refused", "hint: check that jira.url (" + refused + ") is right and reachable", "no proxy is configured: set http_client.proxy_url"},
			wantNot: []string{"tls_config"}},
		{name: "untrusted certificate", target: untrusted.URL,
			want: []string{"certificate", "hint: the server's TLS certificate is not trusted: set http_client.tls_config.ca_file", untrusted.URL}},
		{name: "through a proxy", target: refused, httpCfg: promconfig.HTTPClientConfig{ProxyConfig: promconfig.ProxyConfig{ProxyURL: promconfig.URL{URL: proxy}}},
			want: []string{"requests go through the proxy http://proxy.example:3128 (http_client.proxy_url)"}, wantNot: []string{"proxypass", "proxyuser"}},
		{name: "proxy from environment", target: refused, httpCfg: promconfig.HTTPClientConfig{ProxyConfig: promconfig.ProxyConfig{ProxyFromEnvironment: true}},
			want: []string{"HTTPS_PROXY", "http_client.proxy_from_environment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(ClientConfig{System: "jira", Source: "test", URL: tt.target, RequestsPerSecond: 1000, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = ExplainUnreachable(c.Do(context.Background(), getMyself, nil), "jira.url", tt.target, tt.httpCfg)
			var transport *TransportError
			if !errors.As(err, &transport) {
				t.Fatalf("error %v is not a TransportError", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			for _, not := range tt.wantNot {
				if strings.Contains(err.Error(), not) {
					t.Errorf("error %q contains %q", err, not)
				}
			}
		})
	}

	// What is not about reaching the site stays as it was.
	for _, err := range []error{
		&Error{System: "jira", Method: "GET", Path: "/x", StatusCode: 401},
		fmt.Errorf("read server info: %w", &Error{StatusCode: 503}),
		errors.New(`load time zone "Mars/Olympus"`),
		context.Canceled,
	} {
		if got := ExplainUnreachable(err, "jira.url", "https://x.example", promconfig.HTTPClientConfig{}); got != err { //nolint:errorlint // the very same error value
			t.Errorf("ExplainUnreachable(%v) = %v, want it unchanged", err, got)
		}
	}
	// A deadline that ran out is a site that did not answer.
	late := fmt.Errorf("no answer within 10s: %w", context.DeadlineExceeded)
	if got := ExplainUnreachable(late, "jira.url", "https://x.example", promconfig.HTTPClientConfig{}); !strings.Contains(got.Error(), "a private CA goes in http_client.tls_config.ca_file") {
		t.Errorf("deadline: %v", got)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@jira.example.com/ctx": "https://jira.example.com/ctx",
		"https://jira.example.com":             "https://jira.example.com",
		"http://[::1]:namedport":               "(unparsable URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
