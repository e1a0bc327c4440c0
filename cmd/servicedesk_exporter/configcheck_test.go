package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --config.check and a serve that fails on its config print every problem
// as one plain line, never a log line with escaped quotes.
func TestConfigProblemsArePlainLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeConfig(t, dir, name, content) }
	good := write("good.yaml", "store: { path: "+filepath.Join(dir, "x.db")+" }\nsources:\n  - name: demo\n    type: demo\n")
	bad := write("bad.yaml", "sources:\n  - name: demo\n    type: demo\n    pol_interval: 30s\n  - name: other\n    type: zendesk\n")
	goodWeb := write("web-good.yml", "http_server_config:\n  http2: true\n")
	badWeb := write("web-bad.yml", "basic_auth_user:\n  alice: x\n")
	missingWeb := filepath.Join(dir, "web-missing.yml")

	badLines := []string{
		bad + `:4: unknown key "pol_interval" in source "demo" (did you mean "poll_interval"?)`,
		bad + `:6: source "other": unknown type "zendesk" (want demo, jira or rt)`,
	}
	cases := []struct {
		name       string
		args       []string
		code       int
		stderr     []string // exact lines
		stdoutHas  string
		webProblem string // prefix of the web config's line, after the config's lines
	}{
		{name: "valid", args: []string{"--config.file=" + good, "--config.check"}, stdoutHas: "configuration is valid (1 sources)"},
		{name: "every problem", args: []string{"--config.file=" + bad, "--config.check"}, code: 1, stderr: badLines},
		{name: "valid web config", args: []string{"--config.file=" + good, "--web.config.file=" + goodWeb, "--config.check"}, stdoutHas: goodWeb + ": web configuration is valid"},
		{name: "bad web config", args: []string{"--config.file=" + good, "--web.config.file=" + badWeb, "--config.check"}, code: 1, webProblem: badWeb + ": "},
		{name: "missing web config", args: []string{"--config.file=" + good, "--web.config.file=" + missingWeb, "--config.check"}, code: 1, stderr: []string{missingWeb + ": no such file or directory"}},
		{name: "both bad", args: []string{"--config.file=" + bad, "--web.config.file=" + badWeb, "--config.check"}, code: 1, stderr: badLines, webProblem: badWeb + ": "},
		// No --config.check: serve refuses before it opens the store or a port.
		{name: "serve", args: []string{"--config.file=" + bad, "--web.listen-address=127.0.0.1:0"}, code: 1, stderr: badLines},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(c.args, &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, &stdout, &stderr)
			}
			var lines []string
			if s := strings.TrimSuffix(stderr.String(), "\n"); s != "" {
				lines = strings.Split(s, "\n")
			}
			want := len(c.stderr)
			if c.webProblem != "" {
				want++
			}
			if len(lines) != want {
				t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), want, &stderr)
			}
			for i, line := range c.stderr {
				if lines[i] != line {
					t.Errorf("stderr line %d:\n got %s\nwant %s", i+1, lines[i], line)
				}
			}
			if c.webProblem != "" && !strings.HasPrefix(lines[len(lines)-1], c.webProblem) {
				t.Errorf("last stderr line %q does not report %s", lines[len(lines)-1], c.webProblem)
			}
			if !strings.Contains(stdout.String(), c.stdoutHas) {
				t.Errorf("stdout %q lacks %q", &stdout, c.stdoutHas)
			}
		})
	}
}

// TestConfigFileFromTheEnvironment: the image sets the config path in the
// environment, so docker run IMAGE check keeps it; --config.file still wins.
func TestConfigFileFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeConfig(t, dir, name, content) }
	fromEnv := write("env.yaml", "store: { path: x.db }\nsources:\n  - name: a\n    type: demo\n  - name: b\n    type: demo\n")
	fromFlag := write("flag.yaml", "store: { path: x.db }\nsources:\n  - name: a\n    type: demo\n")
	t.Setenv(configFileEnv, fromEnv)
	t.Chdir(dir) // no config.yaml here: the default would fail

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"environment", []string{"--config.check"}, fromEnv + ": configuration is valid (2 sources)"},
		{"the flag wins", []string{"--config.file=" + fromFlag, "--config.check"}, fromFlag + ": configuration is valid (1 sources)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != 0 || strings.TrimSpace(stdout.String()) != tt.want {
				t.Fatalf("exit %d, stdout %q, want %q\nstderr:\n%s", code, stdout.String(), tt.want, &stderr)
			}
		})
	}
}

// writeConfig writes content to dir/name and returns the path.
func writeConfig(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
