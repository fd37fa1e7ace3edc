// Package arch checks the architecture rules of STYLE.md that the compiler
// does not: core and ports never depend on adapters or infrastructure.
package arch

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/wagate/wagate"

// forbidden are the imports that would tie the core to a technology.
var forbidden = []string{
	module + "/adapters",
	module + "/cmd",
	module + "/ent",
	"entgo.io/",
	"github.com/gin-gonic/",
	"github.com/hibiken/asynq",
	"github.com/redis/",
	"go.mau.fi/",
	"go.opentelemetry.io/otel/sdk",
	"github.com/lib/pq",
	"modernc.org/sqlite",
	"github.com/golang-jwt/",
	"github.com/ulule/",
}

func TestDependencyDirection(t *testing.T) {
	for _, pattern := range []string{"./ports/...", "./core/..."} {
		cmd := exec.Command("go", "list", "-deps", "-test=false", "-f", "{{.ImportPath}}", pattern)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pattern, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s; core and ports may use only the standard library and ports", pattern, dep)
				}
			}
		}
	}
}

// TestPortsUseStandardLibraryOnly: ports is the vocabulary; it must not even
// import core.
func TestPortsUseStandardLibraryOnly(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./ports/...")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != module+"/ports" {
			t.Errorf("ports depends on %s; want the standard library only", dep)
		}
	}
}
