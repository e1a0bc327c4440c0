package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

// writeBasicAuthWebConfig writes an exporter-toolkit web config with one
// basic auth user into dir and returns its path.
func writeBasicAuthWebConfig(t *testing.T, dir, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(path, fmt.Appendf(nil, "basic_auth_users:\n  %s: %s\n", user, hash), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func status(t *testing.T, method, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitStatus polls url on the health listener until it answers want, for at
// most 20 s.
func waitStatus(t *testing.T, p *exporterProcess, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := 0
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
			if last = resp.StatusCode; last == want {
				return
			}
		}
		select {
		case <-p.Exited():
			t.Fatalf("exporter exited early: %v\n%s", p.WaitErr(), p.Stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s: still %d after 20s, want %d\n%s", url, last, want, p.Stderr.String())
}

// TestHealthListenerAnswersProbesWithoutAuth is the Kubernetes case: basic
// auth guards every path of the main listener, so a kubelet probe (which
// cannot send a password from a Secret) can only use --web.health-address.
func TestHealthListenerAnswersProbesWithoutAuth(t *testing.T) {
	const user, password = "prometheus", "s3cret-for-the-scraper"
	webConfig := writeBasicAuthWebConfig(t, t.TempDir(), user, password)
	healthAddr := exportertest.FreeAddr(t)
	p := startExporter(t, "--web.config.file="+webConfig, "--web.health-address="+healthAddr)
	health := "http://" + healthAddr
	waitStatus(t, p, health+"/-/ready", http.StatusOK)
	main := "http://" + p.Addr

	for _, tc := range []struct {
		name, method, url, user string
		want                    int
		body                    string
	}{
		{"main /-/healthy without credentials", "GET", main + "/-/healthy", "", http.StatusUnauthorized, ""},
		{"main /-/ready without credentials", "GET", main + "/-/ready", "", http.StatusUnauthorized, ""},
		{"main /-/ready with credentials", "GET", main + "/-/ready", user, http.StatusOK, "Ready"},
		{"health /-/healthy", "GET", health + "/-/healthy", "", http.StatusOK, "Healthy"},
		{"health /-/ready", "GET", health + "/-/ready", "", http.StatusOK, "Ready"},
		// Nothing else is served without authentication.
		{"health /metrics", "GET", health + "/metrics", "", http.StatusNotFound, ""},
		{"health landing page", "GET", health + "/", "", http.StatusNotFound, ""},
		{"health reload", "POST", health + "/-/reload", "", http.StatusNotFound, ""},
		{"health /metrics with credentials", "GET", health + "/metrics", user, http.StatusNotFound, ""},
	} {
		code, body := status(t, tc.method, tc.url, tc.user, password)
		if code != tc.want || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, code, body, tc.want, tc.body)
		}
	}
}

// TestHealthListenerReadinessHidesSourceNames: before every source has
// polled, the unauthenticated listener answers 503 without naming sources,
// while the authenticated one names them.
func TestHealthListenerReadinessHidesSourceNames(t *testing.T) {
	dir := t.TempDir()
	const user, password = "prometheus", "s3cret-for-the-scraper"
	webConfig := writeBasicAuthWebConfig(t, dir, user, password)
	// A Jira site where nothing listens never completes a poll.
	nowhere := exportertest.FreeAddr(t)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`sources:
  - name: secret-project-desk
    type: jira
    jira: { url: "http://`+nowhere+`", jql: "project = X", max_retries: 0, timeout: 1s }
    http_client:
      basic_auth: { username: bot@example.com, password: token }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	healthAddr := exportertest.FreeAddr(t)
	p := startExporter(t, "--config.file="+cfg, "--web.config.file="+webConfig, "--web.health-address="+healthAddr)
	health := "http://" + healthAddr
	waitStatus(t, p, health+"/-/healthy", http.StatusOK)

	code, body := status(t, "GET", health+"/-/ready", "", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "1 sources waiting") || strings.Contains(body, "secret-project-desk") {
		t.Errorf("health /-/ready before the first poll: %d %q, want 503 without the source name", code, body)
	}
	code, body = status(t, "GET", "http://"+p.Addr+"/-/ready", user, password)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "secret-project-desk") {
		t.Errorf("main /-/ready before the first poll: %d %q, want 503 naming the source", code, body)
	}
}

// TestHealthListenerAddressInUseFailsTheStart: a health address that cannot
// be bound stops the exporter at start, not silently later.
func TestHealthListenerAddressInUseFailsTheStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	config, err := filepath.Abs("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out := exportertest.Run(t, t.TempDir(), time.Minute, "--config.file="+config,
		"--web.listen-address="+exportertest.FreeAddr(t), "--web.health-address="+taken.Addr().String())
	if code != 1 || !strings.Contains(out, "cannot start the health listener") || !strings.Contains(out, "address already in use") {
		t.Fatalf("start with a taken health address: exit %d\n%s", code, out)
	}
}
