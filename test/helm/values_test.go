package helm_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// TestInvalidValuesAreRefused: values.schema.json stops each of these at
// install time, with a message that points at the key.
func TestInvalidValuesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"inline-password.yaml", "/config/sources/0/http_client/basic_auth"},
		{"inline-bearer-token.yaml", "/config/sources/0/http_client"},
		{"inline-authorization.yaml", "/config/sources/0/http_client/authorization"},
		{"inline-header-secret.yaml", "/config/sources/0/http_client/http_headers/X-Api-Key"},
		{"store-path.yaml", "/config/store"},
		{"misspelt-key.yaml", "'persistance' not allowed"},
		{"replicas.yaml", "'replicaCount' not allowed"},
		{"health-on-main-port.yaml", "/health/port"},
		{"no-sources.yaml", "/config/sources"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, stderr, err := helm(t, templateArgs([]string{filepath.Join("testdata", "invalid", tc.file)})...)
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) {
				t.Fatalf("helm template accepted %s (err %v)", tc.file, err)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("helm template refused %s, but its message does not name %q:\n%s", tc.file, tc.want, stderr)
			}
		})
	}
}

func configChecksum(t *testing.T, valuesFiles ...string) string {
	t.Helper()
	d := only[*appsv1.Deployment](t, render(t, valuesFiles))
	return d.Spec.Template.Annotations["checksum/config"]
}

// TestConfigChangeRestartsThePod is how a ConfigMap change reaches the
// exporter: the checksum in the pod template changes, so `helm upgrade`
// replaces the pod; nothing else does.
func TestConfigChangeRestartsThePod(t *testing.T) {
	defaults := configChecksum(t)
	if again := configChecksum(t); again != defaults {
		t.Fatalf("the checksum is not deterministic: %s, then %s", defaults, again)
	}
	if changed := configChecksum(t, "testdata/valid/changed-config-values.yaml"); changed == defaults {
		t.Error("a changed config.yaml leaves the pod template unchanged, so the pod keeps the old config")
	}
	if monitor := configChecksum(t, "testdata/valid/changed-monitor-values.yaml"); monitor != defaults {
		t.Error("a ServiceMonitor change alters the config checksum and would restart the exporter for nothing")
	}
}

// exporterBinary builds cmd/servicedesk_exporter of this repository.
func exporterBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "servicedesk_exporter")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/servicedesk_exporter")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRenderedConfigPassesConfigCheck runs the exporter's own validation on
// the config.yaml each value set renders. The credentials Secret's mount
// directory is replaced by a scratch one holding the Secret's keys, so a
// *_file key naming a file outside the mounted Secret fails here.
func TestRenderedConfigPassesConfigCheck(t *testing.T) {
	helmBinary(t) // skip before the build when there is no helm
	bin := exporterBinary(t)
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			text, _ := renderedConfig(t, render(t, vs.files))
			dir := t.TempDir()
			mounted := filepath.Join(dir, "credentials")
			if err := os.Mkdir(mounted, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, key := range vs.secretFiles {
				if err := os.WriteFile(filepath.Join(mounted, key), []byte("token-from-the-secret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			text = strings.ReplaceAll(text, credentials+"/", mounted+"/")
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, "--config.check", "--config.file="+path).CombinedOutput()
			if err != nil {
				t.Fatalf("--config.check on the rendered config: %v\n%s\n%s", err, out, text)
			}
		})
	}
}
