// Package helm_test renders the chart in charts/servicedesk-exporter with the
// pinned Helm for several value sets and decodes every manifest strictly
// into its Kubernetes or Prometheus Operator Go type, so a misspelt or
// misplaced field fails here instead of at `kubectl apply` (or, worse, is
// silently dropped by the API server). It is a module of its own so that
// k8s.io/api and the operator's types stay out of the exporter's go.mod;
// scripts/check-helm.sh installs Helm and runs it.
package helm_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	repoRoot  = "../.."
	chartPath = repoRoot + "/charts/servicedesk-exporter"
	release   = "sd"
	namespace = "monitoring"
)

// helmBinary is $HELM, else tools/bin/helm (where scripts/check-helm.sh
// installs the pinned one). Without it the tests skip, except under CI=true.
func helmBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("HELM"), filepath.Join(repoRoot, "tools", "bin", "helm")}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			abs, err := filepath.Abs(c)
			if err != nil {
				t.Fatal(err)
			}
			return abs
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no helm binary: run scripts/check-helm.sh, which installs the pinned one into tools/bin")
	}
	t.Skip("no helm binary in $HELM or tools/bin; scripts/check-helm.sh installs it")
	return ""
}

// helm runs the helm binary with a bounded time and returns its stdout,
// stderr and error.
func helm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, helmBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// No repositories, plugins or cache of the developer's are read.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("helm %v did not finish within a minute", args)
	}
	return stdout.String(), stderr.String(), err
}

// manifest is one rendered object: its source template and typed value.
type manifest struct {
	source string // "servicedesk-exporter/templates/deployment.yaml"
	kind   string
	name   string
	obj    any
}

// newObject maps every kind the chart may render to its Go type. A kind
// missing here fails the test: it would mean a template nobody checks.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1/PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monitoringv1.PrometheusRule{}, true
	}
	return nil, false
}

var sourceComment = regexp.MustCompile(`(?m)^# Source: (\S+)`)

// decodeStrict decodes one YAML document into obj and fails on unknown or
// duplicate fields. Field names are matched case-sensitively, as the API
// server does (encoding/json would accept "Replicas" for "replicas").
func decodeStrict(doc []byte, obj any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// parseManifests splits helm template output into documents and decodes
// each strictly into its type.
func parseManifests(t *testing.T, out string) []manifest {
	t.Helper()
	reader := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	var ms []manifest
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Metadata   metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			if strings.TrimSpace(sourceComment.ReplaceAllString(string(doc), "")) != "" {
				t.Fatalf("a document without kind:\n%s", doc)
			}
			continue // a template that rendered nothing
		}
		source := "?"
		if m := sourceComment.FindSubmatch(doc); m != nil {
			source = string(m[1])
		}
		obj, ok := newObject(head.APIVersion, head.Kind)
		if !ok {
			t.Fatalf("%s renders %s %s, which this test does not know: add it to newObject", source, head.APIVersion, head.Kind)
		}
		if err := decodeStrict(doc, obj); err != nil {
			t.Fatalf("%s: %s %s does not decode strictly: %v", source, head.Kind, head.Metadata.Name, err)
		}
		ms = append(ms, manifest{source: source, kind: head.Kind, name: head.Metadata.Name, obj: obj})
	}
	return ms
}

// templateArgs is helm template of the chart with values files (paths
// relative to this directory).
func templateArgs(valuesFiles []string) []string {
	args := []string{"template", release, chartPath, "--namespace", namespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	return args
}

// render runs helm template with the given values files and decodes the
// result.
func render(t *testing.T, valuesFiles []string) []manifest {
	t.Helper()
	args := templateArgs(valuesFiles)
	out, stderr, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return parseManifests(t, out)
}

// only returns the single object of type T, failing if there is not
// exactly one.
func only[T any](t *testing.T, ms []manifest) T {
	t.Helper()
	all := every[T](ms)
	if len(all) != 1 {
		var zero T
		t.Fatalf("want exactly one %T, got %d", zero, len(all))
	}
	return all[0]
}

func every[T any](ms []manifest) []T {
	var out []T
	for _, m := range ms {
		if v, ok := m.obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
