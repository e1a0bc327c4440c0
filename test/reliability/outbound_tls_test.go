package reliability_test

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

// TestOutboundTLSIsVerified puts the fake Jira behind HTTPS with a
// certificate nobody trusts: the exporter must refuse it unless the config
// names its CA or explicitly turns verification off.
func TestOutboundTLSIsVerified(t *testing.T) {
	fake := fakejira.New(fakejira.Options{})
	t.Cleanup(fake.Close)
	fake.Add(fakejira.Generate(3, 100, fakejira.GenerateOptions{End: time.Now()})...)
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	tlsFront := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	// The refused handshakes are the point of the test, not log noise.
	tlsFront.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsFront.StartTLS()
	t.Cleanup(tlsFront.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsFront.Certificate().Raw}))
	auth := "      basic_auth: { username: " + fakejira.DefaultEmail + ", password: " + fakejira.DefaultAPIToken + " }\n"

	for _, tc := range []struct {
		name      string
		tlsConfig string
		trusted   bool
	}{
		{"default verifies and refuses", "", false},
		{"ca_file trusts the server", "      tls_config: { ca_file: ca.pem }\n", true},
		{"insecure_skip_verify turns it off", "      tls_config: { insecure_skip_verify: true }\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "ca.pem"), caPEM)
			writeFile(t, filepath.Join(dir, "config.yaml"), jiraSourceConfig(tlsFront.URL, auth+tc.tlsConfig))
			code, out := runBinary(t, dir, "check")
			if tc.trusted {
				if code != 0 {
					t.Fatalf("check exit %d:\n%s", code, out)
				}
				return
			}
			if code == 0 || !strings.Contains(out, "certificate") {
				t.Fatalf("check against an untrusted certificate: exit %d, want a certificate error:\n%s", code, out)
			}
			before := fake.Total()
			p := startExporter(t, dir)
			waitPolled(t, p, false)
			if up, _ := sample(p.scrape(t), "servicedesk_up", map[string]string{"source": jiraSource}); up != 0 {
				t.Errorf("servicedesk_up %v with an untrusted certificate", up)
			}
			if n := fake.Total() - before; n != 0 {
				t.Errorf("%d requests went through an unverified TLS connection", n)
			}
		})
	}
}
