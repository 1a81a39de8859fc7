package deploy

import (
	"net"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubedrift/kubedrift/data/removals"
	"github.com/kubedrift/kubedrift/feeds/kube"
)

// wantPermissions is everything kubedrift calls, as feeds/kube states it for
// the curated removals table ("get nonResourceURLs /version", "list nodes",
// "list podsecuritypolicies.policy" ...). The ClusterRole must grant exactly
// these: anything more is a privilege the chart must not grant, anything
// less is a check that always comes back "unknown".
func wantPermissions(t *testing.T) []string {
	rs, err := removals.Parse(removals.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return kube.ImpactPermissions(rs)
}

// permissionsOf flattens RBAC rules into the same "verb what" strings.
func permissionsOf(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, verb := range r.Verbs {
			for _, u := range r.NonResourceURLs {
				out = append(out, verb+" nonResourceURLs "+u)
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					name := res
					if g != "" {
						name += "." + g
					}
					out = append(out, verb+" "+name)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// templateLine is a line holding a template action.
var templateLine = regexp.MustCompile(`\{\{.*\}\}`)

func TestClusterRoleIsLeastPrivilege(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "templates", "clusterrole.yaml"))
	if err != nil {
		t.Fatalf("read cluster role: %v", err)
	}
	// The file as written, its template lines dropped: guards the rules even
	// if the renderer in this package were wrong.
	var stripped []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !templateLine.MatchString(line) {
			stripped = append(stripped, line)
		}
	}
	r := mustRender(t, nil)
	sources := []struct {
		name string
		text string
	}{
		{"template lines stripped", strings.Join(stripped, "\n")},
		{"rendered with default values", r.manifests["clusterrole.yaml"]},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			var role rbacv1.ClusterRole
			if err := decodeStrict(src.text, &role); err != nil {
				t.Fatalf("parse clusterrole.yaml: %v\n%s", err, src.text)
			}
			if role.Kind != "ClusterRole" || role.APIVersion != "rbac.authorization.k8s.io/v1" {
				t.Errorf("kind %q apiVersion %q, want ClusterRole rbac.authorization.k8s.io/v1", role.Kind, role.APIVersion)
			}
			if role.AggregationRule != nil {
				t.Errorf("aggregationRule %+v would pull in other roles' rules", role.AggregationRule)
			}
			want := wantPermissions(t)
			sort.Strings(want)
			if got := permissionsOf(role.Rules); !reflect.DeepEqual(got, want) {
				t.Errorf("rules grant:\n%s\nwant exactly:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, rule := range role.Rules {
				for _, field := range [][]string{rule.Verbs, rule.Resources, rule.APIGroups, rule.NonResourceURLs, rule.ResourceNames} {
					for _, v := range field {
						if strings.Contains(v, "*") || v == "watch" || v == "secrets" {
							t.Errorf("rule %+v grants %q", rule, v)
						}
					}
				}
			}
		})
	}
}

func TestValuesParse(t *testing.T) {
	var values struct {
		Image struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
			PullPolicy string `json:"pullPolicy"`
		} `json:"image"`
		Config        map[string]any `json:"config"`
		ContainerPort int            `json:"containerPort"`
		Secrets       map[string]any `json:"secrets"`
		Persistence   struct {
			Enabled bool   `json:"enabled"`
			Size    string `json:"size"`
		} `json:"persistence"`
		ServiceMonitor struct {
			Enabled bool `json:"enabled"`
		} `json:"serviceMonitor"`
	}
	if err := loadYAMLFile(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		t.Fatal(err)
	}
	cfg := values.Config
	checks := []struct {
		name string
		ok   bool
	}{
		{"image.repository set", values.Image.Repository != ""},
		{"config.store on the data volume", strings.HasPrefix(str(cfg["store"]), "/var/lib/kubedrift/")},
		{"config.listen matches containerPort", listenPort(t, str(cfg["listen"])) == values.ContainerPort},
		{"config.clusters.in_cluster", dig(cfg, "clusters", "in_cluster") == true},
		{"config.schedules.sync hourly", dig(cfg, "schedules", "sync") == "@hourly"},
		{"a stdout channel", hasChannel(cfg, "stdout")},
		{"persistence on by default", values.Persistence.Enabled && values.Persistence.Size != ""},
		{"serviceMonitor off by default", !values.ServiceMonitor.Enabled},
		{"no secret values by default", allEmpty(values.Secrets)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.ok {
				t.Errorf("values.yaml: %s does not hold", c.name)
			}
		})
	}
}

// install is one `helm install` the chart must support.
type install struct {
	name      string
	overrides map[string]any
	wantKinds []string
	check     func(t *testing.T, m *manifests)
}

// manifests are the decoded objects of one render.
type manifests struct {
	r          *rendered
	deploy     appsv1.Deployment
	config     map[string]any
	secretKeys map[string]bool // nil when the chart renders no Secret
	kinds      []string
}

func TestChartInstalls(t *testing.T) {
	const token = "ghp_kubedrifttesttoken0123456789"
	slack := map[string]any{
		"name": "platform", "type": "slack",
		"slack": map[string]any{"webhook_url_file": "/etc/kubedrift/secrets/slack-webhook-url"},
	}
	base := []string{"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "PersistentVolumeClaim", "Secret", "Service", "ServiceAccount"}
	without := func(kinds []string, drop string) []string {
		var out []string
		for _, k := range kinds {
			if k != drop {
				out = append(out, k)
			}
		}
		return out
	}

	cases := []install{
		{
			name:      "defaults",
			wantKinds: base,
			check: func(t *testing.T, m *manifests) {
				if len(m.secretKeys) != 0 {
					t.Errorf("default Secret has keys %v, want none", m.secretKeys)
				}
				if dig(m.config, "upstream", "github_token_file") != nil {
					t.Errorf("github_token_file set without a token")
				}
			},
		},
		{
			name: "chart-managed secrets",
			overrides: map[string]any{
				"secrets": map[string]any{"githubToken": token, "apiToken": "api-secret-value", "slackWebhookURL": "https://hooks.example.invalid/T0/B0/x"},
				"config":  map[string]any{"channels": []any{slack}},
			},
			wantKinds: base,
			check: func(t *testing.T, m *manifests) {
				if got := dig(m.config, "upstream", "github_token_file"); got != "/etc/kubedrift/secrets/github-token" {
					t.Errorf("upstream.github_token_file = %v", got)
				}
				if got := m.config["api_token_file"]; got != "/etc/kubedrift/secrets/api-token" {
					t.Errorf("api_token_file = %v", got)
				}
				for file, text := range m.r.manifests {
					if file != "secret.yaml" && strings.Contains(text, token) {
						t.Errorf("the GitHub token leaks into %s", file)
					}
				}
				if strings.Contains(m.r.notes, token) {
					t.Errorf("the GitHub token leaks into NOTES.txt")
				}
			},
		},
		{
			name: "existing secret",
			overrides: map[string]any{
				"secrets": map[string]any{"existingSecret": "kubedrift-creds"},
				"config":  map[string]any{"upstream": map[string]any{"github_token_file": "/etc/kubedrift/secrets/github-token"}},
			},
			wantKinds: without(base, "Secret"),
			check: func(t *testing.T, m *manifests) {
				v := volume(t, m.deploy, "secrets")
				if v.Secret == nil || v.Secret.SecretName != "kubedrift-creds" {
					t.Errorf("secrets volume %+v, want Secret kubedrift-creds", v.VolumeSource)
				}
			},
		},
		{
			name:      "service monitor",
			overrides: map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
			wantKinds: append([]string{"ServiceMonitor"}, base...),
			check: func(t *testing.T, m *manifests) {
				var sm struct {
					Metadata struct {
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
					Spec struct {
						Selector struct {
							MatchLabels map[string]string `json:"matchLabels"`
						} `json:"selector"`
						Endpoints []struct {
							Port string `json:"port"`
							Path string `json:"path"`
						} `json:"endpoints"`
					} `json:"spec"`
				}
				if err := yaml.Unmarshal([]byte(m.r.manifests["servicemonitor.yaml"]), &sm); err != nil {
					t.Fatalf("decode servicemonitor.yaml: %v", err)
				}
				if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
					t.Errorf("endpoints %+v, want port http path /metrics", sm.Spec.Endpoints)
				}
				if sm.Metadata.Labels["release"] != "prom" {
					t.Errorf("labels %v miss serviceMonitor.labels", sm.Metadata.Labels)
				}
				if !reflect.DeepEqual(sm.Spec.Selector.MatchLabels, m.deploy.Spec.Selector.MatchLabels) {
					t.Errorf("selects %v, pods carry %v", sm.Spec.Selector.MatchLabels, m.deploy.Spec.Selector.MatchLabels)
				}
			},
		},
		{
			name:      "remote kubeconfig",
			overrides: map[string]any{"remoteKubeconfig": map[string]any{"existingSecret": "fleet-kubeconfig", "key": "fleet.yaml"}},
			wantKinds: base,
			check: func(t *testing.T, m *manifests) {
				v := volume(t, m.deploy, "kubeconfig")
				if v.Secret == nil || v.Secret.SecretName != "fleet-kubeconfig" ||
					len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != "fleet.yaml" || v.Secret.Items[0].Path != "config" {
					t.Errorf("kubeconfig volume %+v", v.VolumeSource)
				}
				if mountPath(t, m.deploy, "kubeconfig") != "/etc/kubedrift/kubeconfig" {
					t.Errorf("kubeconfig mounted at %q", mountPath(t, m.deploy, "kubeconfig"))
				}
				files, _ := dig(m.config, "clusters", "kubeconfig").([]any)
				if !reflect.DeepEqual(files, []any{"/etc/kubedrift/kubeconfig/config"}) {
					t.Errorf("clusters.kubeconfig = %v", files)
				}
				if dig(m.config, "clusters", "in_cluster") != true {
					t.Errorf("the remote kubeconfig turned off the in-cluster scan")
				}
			},
		},
		{
			name:      "no persistence",
			overrides: map[string]any{"persistence": map[string]any{"enabled": false}},
			wantKinds: without(base, "PersistentVolumeClaim"),
			check: func(t *testing.T, m *manifests) {
				if v := volume(t, m.deploy, "data"); v.EmptyDir == nil {
					t.Errorf("data volume %+v, want emptyDir", v.VolumeSource)
				}
				if !strings.Contains(m.r.notes, "persistence is disabled") {
					t.Errorf("NOTES.txt does not warn about the lost store")
				}
			},
		},
		{
			name:      "no rbac",
			overrides: map[string]any{"rbac": map[string]any{"create": false}},
			wantKinds: without(without(base, "ClusterRole"), "ClusterRoleBinding"),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeAll(t, mustRender(t, tc.overrides))
			if !reflect.DeepEqual(m.kinds, sorted(tc.wantKinds)) {
				t.Errorf("rendered kinds %v, want %v", m.kinds, sorted(tc.wantKinds))
			}
			checkDeployment(t, m)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestChartRejectsMissingSecret(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]any
		wantErr   string
	}{
		{
			name: "slack webhook file without its value",
			overrides: map[string]any{"config": map[string]any{"channels": []any{map[string]any{
				"name": "s", "type": "slack", "slack": map[string]any{"webhook_url_file": "/etc/kubedrift/secrets/slack-webhook-url"},
			}}}},
			wantErr: "secrets.slackWebhookURL",
		},
		{
			name:      "github token file without a token",
			overrides: map[string]any{"config": map[string]any{"upstream": map[string]any{"github_token_file": "/etc/kubedrift/secrets/github-token"}}},
			wantErr:   "secrets.githubToken",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(tc.overrides)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("render error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

// decodeAll decodes every rendered manifest, checking what all of them share.
func decodeAll(t *testing.T, r *rendered) *manifests {
	t.Helper()
	m := &manifests{r: r}
	for file, text := range r.manifests {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(text), &head); err != nil {
			t.Fatalf("parse rendered %s: %v\n%s", file, err, text)
		}
		if head.APIVersion == "" || head.Kind == "" || head.Metadata.Name == "" {
			t.Errorf("%s: apiVersion %q kind %q name %q, want all set", file, head.APIVersion, head.Kind, head.Metadata.Name)
		}
		clusterScoped := head.Kind == "ClusterRole" || head.Kind == "ClusterRoleBinding"
		if !clusterScoped && head.Metadata.Namespace != release["Namespace"] {
			t.Errorf("%s: namespace %q, want the release's", file, head.Metadata.Namespace)
		}
		if head.Metadata.Labels["app.kubernetes.io/instance"] != release["Name"] {
			t.Errorf("%s: labels %v lack the instance label", file, head.Metadata.Labels)
		}
		m.kinds = append(m.kinds, head.Kind)
	}
	sort.Strings(m.kinds)

	decode(t, r, "deployment.yaml", &m.deploy)
	var cm corev1.ConfigMap
	decode(t, r, "configmap.yaml", &cm)
	if cm.Name != volume(t, m.deploy, "config").ConfigMap.Name {
		t.Errorf("config volume does not mount ConfigMap %s", cm.Name)
	}
	if err := yaml.Unmarshal([]byte(cm.Data["kubedrift.yaml"]), &m.config); err != nil || m.config == nil {
		t.Fatalf("ConfigMap key kubedrift.yaml is not a YAML config (%v):\n%s", err, cm.Data["kubedrift.yaml"])
	}
	if _, ok := r.manifests["secret.yaml"]; ok {
		var s corev1.Secret
		decode(t, r, "secret.yaml", &s)
		if s.Name != volume(t, m.deploy, "secrets").Secret.SecretName {
			t.Errorf("secrets volume does not mount Secret %s", s.Name)
		}
		m.secretKeys = map[string]bool{}
		for k := range s.StringData {
			m.secretKeys[k] = true
		}
	}
	if _, ok := r.manifests["serviceaccount.yaml"]; ok {
		var sa corev1.ServiceAccount
		decode(t, r, "serviceaccount.yaml", &sa)
		if sa.Name != m.deploy.Spec.Template.Spec.ServiceAccountName {
			t.Errorf("pod runs as %q, chart creates ServiceAccount %q", m.deploy.Spec.Template.Spec.ServiceAccountName, sa.Name)
		}
		if _, ok := r.manifests["clusterrolebinding.yaml"]; ok {
			var crb rbacv1.ClusterRoleBinding
			var cr rbacv1.ClusterRole
			decode(t, r, "clusterrolebinding.yaml", &crb)
			decode(t, r, "clusterrole.yaml", &cr)
			wantSubject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: sa.Namespace}}
			if !reflect.DeepEqual(crb.Subjects, wantSubject) || crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != cr.Name {
				t.Errorf("binding %+v -> %+v does not bind ClusterRole %s to ServiceAccount %s", crb.Subjects, crb.RoleRef, cr.Name, sa.Name)
			}
		}
	}
	if _, ok := r.manifests["pvc.yaml"]; ok {
		var pvc corev1.PersistentVolumeClaim
		decode(t, r, "pvc.yaml", &pvc)
		if v := volume(t, m.deploy, "data"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name {
			t.Errorf("data volume %+v does not mount claim %s", v.VolumeSource, pvc.Name)
		}
	}
	var svc corev1.Service
	decode(t, r, "service.yaml", &svc)
	if !subset(svc.Spec.Selector, m.deploy.Spec.Template.Labels) {
		t.Errorf("Service selects %v, pods carry %v", svc.Spec.Selector, m.deploy.Spec.Template.Labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v, want one targeting http", svc.Spec.Ports)
	}
	if strings.TrimSpace(r.notes) == "" {
		t.Errorf("NOTES.txt rendered empty")
	}
	return m
}

// checkDeployment checks what every install must keep: one pod at a time,
// hardened, probed, and with every file the config names mounted.
func checkDeployment(t *testing.T, m *manifests) {
	t.Helper()
	d := m.deploy
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1: the store is locked", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate", d.Spec.Strategy.Type)
	}
	if !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("selector %v does not match pod labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want runAsNonRoot, a non-root uid, seccomp RuntimeDefault", psc)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("container has no securityContext")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Errorf("container runAsNonRoot not set")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("container readOnlyRootFilesystem not set")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("container allows privilege escalation")
	case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0:
		t.Errorf("capabilities %+v, want drop [ALL] and nothing added", sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("container seccomp %+v, want RuntimeDefault", sc.SeccompProfile)
	}
	if !reflect.DeepEqual(c.Args, []string{"serve", "--config", "/etc/kubedrift/kubedrift.yaml"}) {
		t.Errorf("args %v", c.Args)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" {
		t.Fatalf("ports %+v, want one named http", c.Ports)
	}
	if port := listenPort(t, str(m.config["listen"])); int(c.Ports[0].ContainerPort) != port {
		t.Errorf("containerPort %d, config listens on %d", c.Ports[0].ContainerPort, port)
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", p.name, p.probe, p.path)
		}
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v, want memory requests and limits", c.Resources)
	}

	// Every mount names a volume; the writable ones are the store and /tmp.
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		volume(t, d, vm.Name)
		mounts[vm.MountPath] = vm.Name
		if !vm.ReadOnly && vm.MountPath != "/var/lib/kubedrift" && vm.MountPath != "/tmp" {
			t.Errorf("mount %s is writable", vm.MountPath)
		}
	}
	if mounts["/tmp"] == "" || volume(t, d, mounts["/tmp"]).EmptyDir == nil {
		t.Errorf("no emptyDir at /tmp for SQLite's scratch files")
	}
	if mounts["/etc/kubedrift/kubedrift.yaml"] != "config" {
		t.Errorf("config not mounted at /etc/kubedrift/kubedrift.yaml")
	}
	if store := str(m.config["store"]); mounts["/var/lib/kubedrift"] != "data" || path.Dir(store) != "/var/lib/kubedrift" {
		t.Errorf("store %q is not on the data volume at /var/lib/kubedrift", store)
	}
	// Every file the config reads must exist in the pod.
	for _, f := range configFiles(m.config) {
		switch dir, base := path.Split(f); dir {
		case "/etc/kubedrift/secrets/":
			if mounts["/etc/kubedrift/secrets"] != "secrets" {
				t.Errorf("config reads %s, secrets not mounted", f)
			}
			if m.secretKeys != nil && !m.secretKeys[base] {
				t.Errorf("config reads %s, the chart's Secret has no key %q", f, base)
			}
		case "/etc/kubedrift/kubeconfig/":
			if mounts["/etc/kubedrift/kubeconfig"] != "kubeconfig" {
				t.Errorf("config reads %s, no kubeconfig mounted", f)
			}
		}
	}
}

// configFiles lists every string in the config that names a file under
// /etc/kubedrift.
func configFiles(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			out = append(out, configFiles(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, configFiles(e)...)
		}
	case string:
		if strings.HasPrefix(v, "/etc/kubedrift/") {
			out = append(out, v)
		}
	}
	return out
}

func volume(t *testing.T, d appsv1.Deployment, name string) corev1.Volume {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("Deployment has no volume %q", name)
	return corev1.Volume{}
}

func mountPath(t *testing.T, d appsv1.Deployment, name string) string {
	t.Helper()
	for _, vm := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if vm.Name == name {
			return vm.MountPath
		}
	}
	t.Fatalf("container does not mount volume %q", name)
	return ""
}

func listenPort(t *testing.T, listen string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("config listen %q: %v", listen, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("config listen %q: port: %v", listen, err)
	}
	return n
}

// dig walks nested maps; nil when a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func hasChannel(cfg map[string]any, typ string) bool {
	chans, _ := cfg["channels"].([]any)
	for _, c := range chans {
		if dig(c, "type") == typ {
			return true
		}
	}
	return false
}

func allEmpty(m map[string]any) bool {
	for _, v := range m {
		if !isEmpty(v) {
			return false
		}
	}
	return true
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func subset(small, big map[string]string) bool {
	if len(small) == 0 {
		return false
	}
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
