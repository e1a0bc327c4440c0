package main

import (
	"os"
	"strings"
	"testing"
)

// No Docker engine runs where the tests run, so the Dockerfile's promises
// are checked by reading it: a static binary, a non-root user, the default
// port exposed, the store on a volume, and the config path in the
// environment, where arguments to docker run (check) cannot drop it.
func TestDockerfilePromises(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines so each instruction is one line.
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	var stages [][]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %s", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	find := func(stage []string, prefix string) []string {
		var out []string
		for _, l := range stage {
			if strings.HasPrefix(l, prefix) {
				out = append(out, strings.TrimSpace(strings.TrimPrefix(l, prefix)))
			}
		}
		return out
	}
	build, final := strings.Join(stages[0], "\n"), stages[len(stages)-1]
	if !strings.Contains(build, "CGO_ENABLED=0") {
		t.Error("the build stage does not build a static binary (CGO_ENABLED=0)")
	}
	users := find(final, "USER ")
	if len(users) == 0 {
		t.Fatal("the final stage has no USER: it would run as root")
	}
	if u := strings.SplitN(users[len(users)-1], ":", 2)[0]; u == "root" || u == "0" {
		t.Errorf("the final stage runs as %q", users[len(users)-1])
	}
	port := strings.TrimPrefix(defaultListen, ":")
	if exposed := find(final, "EXPOSE "); len(exposed) != 1 || exposed[0] != port {
		t.Errorf("EXPOSE %v, want %s (the default --web.listen-address)", exposed, port)
	}
	workdirs, volumes := find(final, "WORKDIR "), find(final, "VOLUME ")
	if len(workdirs) == 0 || len(volumes) == 0 || !strings.Contains(volumes[0], workdirs[len(workdirs)-1]) {
		t.Errorf("the store lives under WORKDIR %v, which must be a VOLUME (got %v)", workdirs, volumes)
	}
	if ep := find(final, "ENTRYPOINT "); len(ep) != 1 || !strings.Contains(ep[0], "servicedesk_exporter") {
		t.Errorf("ENTRYPOINT %v does not run the exporter", ep)
	}

	// docker run IMAGE check replaces CMD: the config path must not live there.
	for _, cmd := range find(final, "CMD ") {
		if strings.Contains(cmd, "--config.file") {
			t.Errorf("CMD %s sets --config.file; any argument to docker run would drop it", cmd)
		}
	}
	var configDest string
	for _, c := range find(final, "COPY ") {
		if f := strings.Fields(c); len(f) == 2 && f[0] == "config.yaml" {
			configDest = f[1]
		}
	}
	if configDest == "" {
		t.Fatal("the final stage does not copy config.yaml")
	}
	env := map[string]string{}
	for _, e := range find(final, "ENV ") {
		for _, kv := range strings.Fields(e) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	if got := env[configFileEnv]; got != configDest {
		t.Errorf("ENV %s=%q, want the copied config %s", configFileEnv, got, configDest)
	}
}

// TestLicenseMatchesTheImageLabel: the image says Apache-2.0, so the
// repository carries that license's text and the README names it.
func TestLicenseMatchesTheImageLabel(t *testing.T) {
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), `org.opencontainers.image.licenses="Apache-2.0"`) {
		t.Fatal("the image label no longer says Apache-2.0; keep LICENSE and this test in step with it")
	}
	license, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatalf("no LICENSE next to the Dockerfile: %v", err)
	}
	text := strings.Join(strings.Fields(string(license)), " ")
	for _, want := range []string{"Apache License Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q: not the Apache-2.0 text", want)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "Apache License 2.0; see [LICENSE](LICENSE)") {
		t.Error("the README does not name the license")
	}
}
