package app

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// Docker and Kubernetes cannot run here, so these tests check what can be
// checked without them: the deployment files parse, have the shape the
// README promises, and name only variables wagate reads.

const deployDir = "../../../deployments"

// TestDeploymentFilesNameRealSettings fails on a WAGATE_* or OTEL_*
// variable that wagate does not read: a typo there is a setting silently
// ignored.
func TestDeploymentFilesNameRealSettings(t *testing.T) {
	known := map[string]bool{}
	for _, s := range settings {
		known[s.name] = true
	}
	files, err := filepath.Glob(filepath.Join(deployDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*"))
	files = append(files, more...)
	name := regexp.MustCompile(`(WAGATE|OTEL)_[A-Z0-9_]+`)
	seen := 0
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		for _, v := range name.FindAllString(read(t, f), -1) {
			seen++
			if !known[v] {
				t.Errorf("%s names %s; wagate has no such setting", f, v)
			}
		}
	}
	if seen == 0 {
		t.Fatal("got no WAGATE_* variable in deployments/, want the files to configure wagate")
	}
}

func TestDockerfile(t *testing.T) {
	var stages, users []string
	var static bool
	for _, line := range strings.Split(read(t, filepath.Join(deployDir, "Dockerfile")), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			stages = append(stages, line)
		case "USER":
			users = append(users, fields[1])
		case "RUN":
			static = static || strings.Contains(line, "CGO_ENABLED=0")
		}
	}
	if len(stages) < 2 {
		t.Errorf("got %d FROM lines, want a multi-stage build", len(stages))
	}
	if !static {
		t.Error("the binary is not built with CGO_ENABLED=0, want a static binary")
	}
	if len(users) == 0 || users[len(users)-1] == "root" || strings.HasPrefix(users[len(users)-1], "0") {
		t.Errorf("got USER %v, want the last stage to run as a non-root user", users)
	}
}

func TestComposeFile(t *testing.T) {
	var doc struct {
		Services map[string]struct {
			Image       string
			Command     []string
			Environment map[string]string
			Build       struct{ Context, Dockerfile string }
		}
	}
	// Compose files override keys merged in from an anchor (YAML's <<),
	// which this parser takes for duplicates unless told otherwise.
	if err := yaml.UnmarshalWithOptions([]byte(read(t, filepath.Join(deployDir, "compose.yaml"))), &doc, yaml.AllowDuplicateMapKey()); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, want := range []string{"postgres", "redis", "migrate", "jaeger"} {
		if _, ok := doc.Services[want]; !ok {
			t.Errorf("compose.yaml has no %s service", want)
		}
	}
	var nodes []string
	secrets := map[string]bool{}
	for name, s := range doc.Services {
		if s.Environment["WAGATE_DATABASE_URL"] == "" || slices.Contains(s.Command, "migrate") {
			continue
		}
		nodes = append(nodes, name)
		if s.Environment["WAGATE_REDIS_URL"] == "" || s.Environment["WAGATE_NODE_ID"] == "" {
			t.Errorf("node %s: want WAGATE_REDIS_URL and its own WAGATE_NODE_ID", name)
		}
		secrets[s.Environment["WAGATE_JWT_SECRET"]] = true
		if _, err := os.Stat(filepath.Join(deployDir, s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("node %s builds from a missing Dockerfile: %v", name, err)
		}
	}
	if len(nodes) < 2 {
		t.Errorf("got wagate nodes %v, want at least two", nodes)
	}
	if len(secrets) != 1 {
		t.Errorf("the nodes have %d different JWT secrets, want one shared", len(secrets))
	}
}

// k8sObject is the part of a Kubernetes manifest the test reads.
type k8sObject struct {
	Kind string
	Spec struct {
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				Containers []struct {
					Name           string
					Ports          []struct{ Name string }
					LivenessProbe  *probe `yaml:"livenessProbe"`
					ReadinessProbe *probe `yaml:"readinessProbe"`
				}
			}
		}
		Ports []struct {
			TargetPort string `yaml:"targetPort"`
		}
	}
}

type probe struct {
	HTTPGet struct{ Path, Port string } `yaml:"httpGet"`
}

func TestKubernetesManifests(t *testing.T) {
	var kustomize struct{ Resources []string }
	dir := filepath.Join(deployDir, "kubernetes")
	if err := yaml.Unmarshal([]byte(read(t, filepath.Join(dir, "kustomization.yaml"))), &kustomize); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	objects := map[string]k8sObject{}
	for _, r := range kustomize.Resources {
		var o k8sObject
		if err := yaml.Unmarshal([]byte(read(t, filepath.Join(dir, r))), &o); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		objects[o.Kind] = o
	}
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"} {
		if _, ok := objects[kind]; !ok {
			t.Errorf("no %s among the kustomization's resources", kind)
		}
	}
	pod := objects["Deployment"].Spec.Template.Spec
	if !pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod does not set runAsNonRoot")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("got %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe %+v, want GET /healthz", c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v, want GET /readyz", c.ReadinessProbe)
	}
	svc := objects["Service"].Spec.Ports
	if len(svc) == 0 || len(c.Ports) == 0 || svc[0].TargetPort != c.Ports[0].Name {
		t.Errorf("the Service targets %+v, want the container's port %+v", svc, c.Ports)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
