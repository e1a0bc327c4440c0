package helm_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const (
	fullname    = release + "-servicedesk-exporter"
	mainPort    = 9811
	storeMount  = "/var/lib/servicedesk_exporter"
	credentials = "/etc/servicedesk_exporter/credentials"
	ciValues    = chartPath + "/ci/"
)

// valueSet is one way to install the chart and what it must produce.
type valueSet struct {
	name  string
	files []string // values files, relative to this directory
	kinds map[string]int

	claim        string // PVC the store uses; "" for an emptyDir
	credentials  string // Secret mounted for *_file keys
	webConfig    string // Secret with web-config.yml
	webTLS       string // kubernetes.io/tls Secret
	scheme       string // ServiceMonitor scheme
	job          string
	secretFiles  []string // keys the credentials Secret has (for --config.check)
	dashboardsNS string
}

func base(extra map[string]int) map[string]int {
	k := map[string]int{"ServiceAccount": 1, "ConfigMap": 1, "Service": 1, "Deployment": 1}
	for kind, n := range extra {
		k[kind] += n
	}
	return k
}

func valueSets(t *testing.T) []valueSet {
	dashboards := len(repoFiles(t, "dashboards/json/*.json"))
	return []valueSet{
		{name: "defaults", kinds: base(map[string]int{"PersistentVolumeClaim": 1}), claim: fullname, job: "servicedesk"},
		{
			name: "jira with basic auth and TLS", files: []string{ciValues + "jira-auth-tls-values.yaml"},
			kinds: base(map[string]int{"PersistentVolumeClaim": 1, "ServiceMonitor": 1}), claim: fullname,
			credentials: "sd-jira", webConfig: "sd-web", webTLS: "sd-tls", scheme: "https", job: "servicedesk",
			secretFiles: []string{"jira-api-token"},
		},
		{name: "emptyDir", files: []string{ciValues + "emptydir-values.yaml"}, kinds: base(nil), job: "servicedesk"},
		{
			name: "monitors on", files: []string{ciValues + "monitoring-values.yaml"},
			kinds: base(map[string]int{"ServiceMonitor": 1, "PrometheusRule": 1, "ConfigMap": dashboards}),
			claim: "sd-store", scheme: "http", job: "servicedesk-prod", dashboardsNS: "grafana",
		},
		{
			name:        "everything on an emptyDir",
			files:       []string{ciValues + "jira-auth-tls-values.yaml", ciValues + "monitoring-values.yaml", ciValues + "emptydir-values.yaml"},
			kinds:       base(map[string]int{"ServiceMonitor": 1, "PrometheusRule": 1, "ConfigMap": dashboards}),
			credentials: "sd-jira", webConfig: "sd-web", webTLS: "sd-tls", scheme: "https", job: "servicedesk-prod",
			secretFiles: []string{"jira-api-token"}, dashboardsNS: "grafana",
		},
	}
}

func TestChartRendersEveryValueSet(t *testing.T) {
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			ms := render(t, vs.files)
			got := map[string]int{}
			for _, m := range ms {
				got[m.kind]++
			}
			if !maps.Equal(got, vs.kinds) {
				t.Fatalf("rendered kinds %v, want %v", got, vs.kinds)
			}
			for _, m := range ms {
				if m.kind != "ConfigMap" || vs.dashboardsNS == "" || !strings.Contains(m.name, "-dashboard-") {
					if ns := reflect.ValueOf(m.obj).Elem().FieldByName("Namespace").String(); ns != namespace {
						t.Errorf("%s %s is in namespace %q, want the release's %q", m.kind, m.name, ns, namespace)
					}
				}
			}
			checkDeployment(t, vs, ms)
			checkService(t, ms)
			checkConfig(t, ms)
			if vs.kinds["ServiceMonitor"] > 0 {
				checkServiceMonitor(t, vs, ms)
			}
			if vs.kinds["PrometheusRule"] > 0 {
				checkPrometheusRule(t, vs, ms)
			}
			if vs.dashboardsNS != "" {
				checkDashboards(t, vs, ms)
			}
		})
	}
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func mount(c corev1.Container, name string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func port(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func checkDeployment(t *testing.T, vs valueSet, ms []manifest) {
	t.Helper()
	d := only[*appsv1.Deployment](t, ms)
	spec := d.Spec.Template.Spec
	c := container(t, d)

	// One writer per store: a single replica, and never two pods at once.
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %s, want 1", ptrText(d.Spec.Replicas))
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate", d.Spec.Strategy.Type)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod's labels", k, v)
		}
	}
	if d.Spec.Template.Annotations["checksum/config"] == "" {
		t.Error("no checksum/config annotation: a config change would not restart the pod")
	}

	// Non-root, read-only, no capabilities, default seccomp.
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.FSGroup == nil || *psc.FSGroup != 65532 || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, user and fsGroup 65532, seccomp RuntimeDefault", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v: want readOnlyRootFilesystem, no privilege escalation, drop ALL", sc)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the service account token is mounted, but the exporter never calls the Kubernetes API")
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}

	// Probes: HTTP, on the health listener, because basic auth on the main
	// port would answer them 401.
	health := port(c, "health")
	if port(c, "http") != mainPort || health == 0 || health == mainPort {
		t.Errorf("container ports %+v: want http %d and a separate health port", c.Ports, mainPort)
	}
	if !slices.Contains(c.Args, fmt.Sprintf("--web.health-address=:%d", health)) {
		t.Errorf("args %v do not open the health listener on port %d", c.Args, health)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		want := map[string]string{"liveness": "/-/healthy", "readiness": "/-/ready"}[name]
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "health" {
			t.Errorf("%s probe %+v: want httpGet %s on port health", name, p, want)
		}
	}

	// The config, read-only.
	if m := mount(c, "config"); m == nil || !m.ReadOnly || !slices.Contains(c.Args, "--config.file="+m.MountPath+"/config.yaml") {
		t.Errorf("config mount %+v and args %v disagree", m, c.Args)
	}
	if v := volume(spec, "config"); v == nil || v.ConfigMap == nil || v.ConfigMap.Name != fullname {
		t.Errorf("config volume %+v, want ConfigMap %s", v, fullname)
	}

	// The store: on the claim, or an emptyDir; the working directory.
	if m := mount(c, "store"); m == nil || m.MountPath != storeMount || m.ReadOnly || c.WorkingDir != storeMount {
		t.Errorf("store mount %+v, workingDir %q: want %s, writable, as the working directory", m, c.WorkingDir, storeMount)
	}
	switch v := volume(spec, "store"); {
	case v == nil:
		t.Error("no store volume")
	case vs.claim != "" && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != vs.claim):
		t.Errorf("store volume %+v, want claim %s", v.VolumeSource, vs.claim)
	case vs.claim == "" && v.EmptyDir == nil:
		t.Errorf("store volume %+v, want an emptyDir", v.VolumeSource)
	}
	if vs.claim == fullname {
		pvc := only[*corev1.PersistentVolumeClaim](t, ms)
		if pvc.Name != fullname || pvc.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Errorf("PVC %s with annotations %v: want %s kept on uninstall", pvc.Name, pvc.Annotations, fullname)
		}
	}

	// Secrets: mounted whole (no subPath, so rotation reaches the files),
	// read-only, readable by the group only.
	for _, s := range []struct{ volume, secret string }{{"credentials", vs.credentials}, {"web-config", vs.webConfig}, {"web-tls", vs.webTLS}} {
		v, m := volume(spec, s.volume), mount(c, s.volume)
		if s.secret == "" {
			if v != nil || m != nil {
				t.Errorf("volume %s is mounted, but no Secret was configured", s.volume)
			}
			continue
		}
		if v == nil || v.Secret == nil || v.Secret.SecretName != s.secret || v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o440 {
			t.Errorf("volume %s: want Secret %s with mode 0440, got %s", s.volume, s.secret, describe(v))
		}
		if m == nil || !m.ReadOnly || m.SubPath != "" {
			t.Errorf("mount %s %+v: want read-only, without subPath", s.volume, m)
		}
	}
	webFlag := slices.IndexFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--web.config.file=") })
	if (vs.webConfig != "") != (webFlag >= 0) {
		t.Errorf("args %v: --web.config.file should be given exactly when webConfig.existingSecret is", c.Args)
	}
	if webFlag >= 0 {
		if m := mount(c, "web-config"); m == nil || c.Args[webFlag] != "--web.config.file="+m.MountPath+"/web-config.yml" {
			t.Errorf("%s does not name the mounted web config", c.Args[webFlag])
		}
	}
}

func ptrText[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func describe(v *corev1.Volume) string {
	switch {
	case v == nil:
		return "no volume"
	case v.Secret == nil:
		return "a volume that is not a Secret"
	}
	return fmt.Sprintf("Secret %s with mode %s", v.Secret.SecretName, ptrText(v.Secret.DefaultMode))
}

func checkService(t *testing.T, ms []manifest) {
	t.Helper()
	svc := only[*corev1.Service](t, ms)
	d := only[*appsv1.Deployment](t, ms)
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Service selector %s=%s does not select the pod", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v: want only http (the health port stays off the Service)", svc.Spec.Ports)
	}
	if !svc.Spec.PublishNotReadyAddresses {
		t.Error("the Service hides the pod until its first poll finished, so the initial sync's progress cannot be scraped")
	}
}

// inlineSecretKeys are http_client keys that would put a secret into the
// ConfigMap.
var inlineSecretKeys = []string{"password", "credentials", "client_secret", "bearer_token", "secrets"}

func renderedConfig(t *testing.T, ms []manifest) (string, map[string]any) {
	t.Helper()
	for _, cm := range every[*corev1.ConfigMap](ms) {
		if cm.Name == fullname {
			text := cm.Data["config.yaml"]
			var cfg map[string]any
			if err := yaml.UnmarshalStrict([]byte(text), &cfg); err != nil {
				t.Fatalf("config.yaml: %v\n%s", err, text)
			}
			return text, cfg
		}
	}
	t.Fatal("no config ConfigMap")
	return "", nil
}

func checkConfig(t *testing.T, ms []manifest) {
	t.Helper()
	_, cfg := renderedConfig(t, ms)
	store, _ := cfg["store"].(map[string]any)
	if path, _ := store["path"].(string); !strings.HasPrefix(path, storeMount+"/") {
		t.Errorf("store.path %q is not on the store volume %s", path, storeMount)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if slices.Contains(inlineSecretKeys, k) {
					t.Errorf("config.yaml has %s%s: secrets belong in a Secret, named by a *_file key", prefix, k)
				}
				walk(prefix+k+".", child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s%d.", prefix, i), child)
			}
		}
	}
	walk("", cfg)
}

func checkServiceMonitor(t *testing.T, vs valueSet, ms []manifest) {
	t.Helper()
	sm := only[*monitoringv1.ServiceMonitor](t, ms)
	svc := only[*corev1.Service](t, ms)
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selector %s=%s does not select the Service", k, v)
		}
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("namespaceSelector %+v, want the release's namespace", sm.Spec.NamespaceSelector)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("%d endpoints, want 1", len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != "http" || ep.Path != "/metrics" || ep.Scheme == nil || ep.Scheme.String() != vs.scheme {
		t.Errorf("endpoint port %q path %q scheme %v, want http /metrics %s", ep.Port, ep.Path, ep.Scheme, vs.scheme)
	}
	if err := ep.Validate(); err != nil {
		t.Errorf("endpoint HTTP config: %v", err)
	}
	if (vs.webConfig != "") != (ep.BasicAuth != nil && ep.TLSConfig != nil) {
		t.Errorf("basicAuth %+v and tlsConfig %+v should be set exactly when the web config is", ep.BasicAuth, ep.TLSConfig)
	}
	jobSet := slices.ContainsFunc(ep.RelabelConfigs, func(r monitoringv1.RelabelConfig) bool {
		return r.TargetLabel == "job" && r.Replacement != nil && *r.Replacement == vs.job && (r.Action == "" || strings.EqualFold(r.Action, "replace"))
	})
	if !jobSet {
		t.Errorf("relabelings %+v do not set job=%q, which the alerts select", ep.RelabelConfigs, vs.job)
	}
}

// repoFiles globs files of the repository (not the chart's copies).
func repoFiles(t *testing.T, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s in the repository: %v", glob, err)
	}
	return files
}

// ruleFile is a Prometheus rule file, decoded into the operator's types:
// a field the operator does not know would be lost in a PrometheusRule, so
// it fails here.
type ruleFile struct {
	Groups []monitoringv1.RuleGroup `json:"groups"`
}

func checkPrometheusRule(t *testing.T, vs valueSet, ms []manifest) {
	t.Helper()
	pr := only[*monitoringv1.PrometheusRule](t, ms)
	var want []monitoringv1.RuleGroup
	for _, path := range repoFiles(t, "rules/*.yml") {
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := decodeStrict(content, &rf); err != nil {
			t.Fatalf("%s does not decode into the operator's rule types: %v", path, err)
		}
		want = append(want, rf.Groups...)
	}
	// The one job selector follows the scrape's job.
	selectors := 0
	for gi := range want {
		for ri := range want[gi].Rules {
			r := &want[gi].Rules[ri]
			if expr := r.Expr.String(); strings.Contains(expr, `job="servicedesk"`) {
				r.Expr.StrVal = strings.ReplaceAll(expr, `job="servicedesk"`, fmt.Sprintf("job=%q", vs.job))
				selectors++
			}
		}
	}
	if selectors == 0 {
		t.Error(`no rule selects job="servicedesk" any more: the chart's job substitution is dead, drop it or fix this test`)
	}
	if !reflect.DeepEqual(pr.Spec.Groups, want) {
		got, _ := json.MarshalIndent(pr.Spec.Groups, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("the PrometheusRule's groups differ from rules/*.yml (run `go run ./charts/gen` if a rule changed)\ngot:\n%s\nwant:\n%s", got, exp)
	}
}

func checkDashboards(t *testing.T, vs valueSet, ms []manifest) {
	t.Helper()
	byFile := map[string]*corev1.ConfigMap{}
	for _, cm := range every[*corev1.ConfigMap](ms) {
		if cm.Name == fullname {
			continue
		}
		if len(cm.Data) != 1 {
			t.Fatalf("dashboard ConfigMap %s has %d keys, want 1", cm.Name, len(cm.Data))
		}
		for file := range cm.Data {
			byFile[file] = cm
		}
	}
	files := repoFiles(t, "dashboards/json/*.json")
	if len(byFile) != len(files) {
		t.Errorf("%d dashboard ConfigMaps, want one per dashboards/json file (%d)", len(byFile), len(files))
	}
	for _, path := range files {
		file := filepath.Base(path)
		cm := byFile[file]
		if cm == nil {
			t.Errorf("no ConfigMap holds %s (run `go run ./charts/gen`)", file)
			continue
		}
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[file] != string(content) {
			t.Errorf("ConfigMap %s: %s differs from dashboards/json (run `go run ./charts/gen`)", cm.Name, file)
		}
		if cm.Labels["grafana_dashboard"] != "1" || cm.Namespace != vs.dashboardsNS || cm.Annotations["grafana_folder"] == "" {
			t.Errorf("ConfigMap %s: labels %v, annotations %v, namespace %s: want the sidecar's label and folder in %s",
				cm.Name, cm.Labels, cm.Annotations, cm.Namespace, vs.dashboardsNS)
		}
	}
}
