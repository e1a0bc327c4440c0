package reliability_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

// Secrets used by the configs below. Each is distinctive enough that finding
// it, or a recognisable part of it, anywhere is a leak.
const (
	secretPassword     = "SEKRET-basic-password-7f3a9c"
	secretPasswordFile = "SEKRET-password-file-9b1c55"
	secretCredentials  = "SEKRET-authorization-41d2e8"
	jiraUser           = "exporter@example.com"
)

// forbidden lists every form in which the secrets could leak: as written,
// their distinctive suffixes, and as Authorization header values.
func forbidden() []string {
	var out []string
	for _, s := range []string{secretPassword, secretPasswordFile, secretCredentials} {
		out = append(out, s, s[strings.LastIndex(s, "-"):],
			base64.StdEncoding.EncodeToString([]byte(jiraUser+":"+s)))
	}
	return append(out, "SEKRET")
}

func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, f := range forbidden() {
		if i := strings.Index(text, f); i >= 0 {
			lo, hi := max(0, i-120), min(len(text), i+len(f)+40)
			t.Errorf("%s leaks %q: ...%s...", where, f, text[lo:hi])
		}
	}
}

// jiraSourceConfig is a complete config with one Jira source at url
// authenticating with auth (an http_client block body, indented 6).
func jiraSourceConfig(url, auth string) string {
	return `store:
  path: data/servicedesk.db
sources:
  - name: jira
    type: jira
    poll_interval: 2s
    lookback: 30d
    jira:
      url: ` + url + `
      jql: project in (IT, HR, FAC)
      deployment: cloud
      max_retries: 1
      timeout: 5s
    http_client:
` + auth
}

var authVariants = []struct {
	name string
	auth string
}{
	{"basic_auth password", "      basic_auth: { username: " + jiraUser + ", password: " + secretPassword + " }\n"},
	{"basic_auth password_file", "      basic_auth: { username: " + jiraUser + ", password_file: jira-token }\n"},
	{"authorization credentials", "      authorization: { type: Bearer, credentials: " + secretCredentials + " }\n"},
}

// runBinary runs the exporter to completion in dir, bounded to 60 s.
func runBinary(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	return exportertest.Run(t, dir, time.Minute, args...)
}

// TestSecretsStayOutOfConfigCheck runs --config.check and a serve attempt on
// valid and invalid configs holding secrets, at debug level.
func TestSecretsStayOutOfConfigCheck(t *testing.T) {
	const url = "http://127.0.0.1:9"
	badElsewhere := "  - name: second\n    type: demo\n    poll_interval: 5 parsecs\n"
	cases := []struct {
		name    string
		config  string
		wantErr bool
	}{
		{"password file missing", jiraSourceConfig(url, "      basic_auth: { username: "+jiraUser+", password_file: missing-token }\n"), true},
		{"unknown key next to the password", jiraSourceConfig(url, "      basic_auth: { username: "+jiraUser+", password: "+secretPassword+", pasword: x }\n"), true},
		{"password as a list", jiraSourceConfig(url, "      basic_auth: { username: "+jiraUser+", password: ["+secretPassword+"] }\n"), true},
		{"secret where a mapping belongs", jiraSourceConfig(url, "      basic_auth: "+secretPassword+"\n"), true},
		{"credentials in the jira url", strings.Replace(jiraSourceConfig(url, authVariants[0].auth), url, "http://bot:"+secretCredentials+"@127.0.0.1:9", 1), true},
	}
	for _, v := range authVariants {
		cases = append(cases,
			struct {
				name    string
				config  string
				wantErr bool
			}{v.name + ", valid", jiraSourceConfig(url, v.auth), false},
			struct {
				name    string
				config  string
				wantErr bool
			}{v.name + ", bad duration in another source", jiraSourceConfig(url, v.auth) + badElsewhere, true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "jira-token"), secretPasswordFile+"\n")
			writeFile(t, filepath.Join(dir, "config.yaml"), tc.config)
			code, out := runBinary(t, dir, "--log.level=debug", "--config.check")
			if (code != 0) != tc.wantErr {
				t.Errorf("--config.check exit %d, want error %v:\n%s", code, tc.wantErr, out)
			}
			assertNoSecret(t, "--config.check output", out)
			if !tc.wantErr {
				return
			}
			code, out = runBinary(t, dir, "--log.level=debug", "--web.listen-address="+exportertest.FreeAddr(t))
			if code != 1 {
				t.Errorf("serve with a bad config: exit %d, want 1:\n%s", code, out)
			}
			assertNoSecret(t, "serve error output", out)
		})
	}
}

// leakSurfaces collects everything a running exporter shows: its landing
// page, metrics, readiness and reload answers.
func leakSurfaces(t *testing.T, p *exporter) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, path := range []string{"/", "/metrics", "/-/ready", "/-/healthy"} {
		_, body := p.get(t, path)
		out["GET "+path] = body
	}
	resp, err := p.client.Post(p.url("/-/reload"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	out["POST /-/reload"] = string(body)
	return out
}

// TestSecretsStayOutOfServing runs the binary at debug level against the
// fake Jira with each credential form, once accepted and once refused (401),
// and searches every output for the secrets.
func TestSecretsStayOutOfServing(t *testing.T) {
	for _, v := range authVariants {
		for _, accepted := range []bool{true, false} {
			name := v.name + ", refused with 401"
			if accepted {
				name = v.name + ", accepted"
			}
			t.Run(name, func(t *testing.T) {
				opts := fakejira.Options{Email: jiraUser, APIToken: "another-token", PAT: "another-pat"}
				if accepted {
					opts.APIToken, opts.PAT = secretPassword, secretCredentials
					if strings.Contains(v.auth, "password_file") {
						opts.APIToken = secretPasswordFile
					}
				}
				fake := fakejira.New(opts)
				t.Cleanup(fake.Close)
				fake.Add(fakejira.Generate(1, 200, fakejira.GenerateOptions{End: time.Now()})...)

				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "jira-token"), secretPasswordFile+"\n")
				writeFile(t, filepath.Join(dir, "config.yaml"), jiraSourceConfig(fake.URL, v.auth))

				code, out := runBinary(t, dir, "--log.level=debug", "check")
				assertNoSecret(t, "check output", out)
				if accepted != (code == 0) {
					t.Errorf("check exit %d with accepted=%v:\n%s", code, accepted, out)
				}

				p := startExporter(t, dir, "--log.level=debug")
				waitPolled(t, p, accepted)
				for where, text := range leakSurfaces(t, p) {
					assertNoSecret(t, where, text)
				}
				if fake.Total() == 0 {
					t.Error("the fake Jira received no request")
				}
				log := p.Stderr.String()
				assertNoSecret(t, "debug log", log)
				t.Logf("%d requests reached the fake; scanned %d debug log lines, check output:\n%s", fake.Total(), strings.Count(log, "\n"), strings.TrimSpace(out))
			})
		}
	}
}

// waitPolled waits (at most 60 s) until the source completed a poll, or,
// when the credentials are refused, until a poll error was counted.
func waitPolled(t *testing.T, p *exporter, wantSuccess bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if !p.Running() {
			t.Fatalf("exporter exited: %v\n%s", p.WaitErr(), tail(p.Stderr.String(), 3000))
		}
		resp, err := p.client.Get(p.url("/metrics"))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				families := parseMetrics(t, string(body))
				up, _ := sample(families, "servicedesk_up", map[string]string{"source": "jira"})
				errs, _ := sample(families, "servicedesk_poll_errors_total", map[string]string{"source": "jira"})
				if wantSuccess && up == 1 || !wantSuccess && errs >= 1 {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if wantSuccess {
		t.Fatal("no successful poll within 60 s")
	}
	t.Fatal("no failed poll counted within 60 s")
}
