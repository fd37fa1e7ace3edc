// Package capstest checks that the decorators of a port (tracing,
// metrics) keep the optional capabilities of the adapter they wrap: the
// core modules look for a capability with a type assertion, which a
// decorator hiding it fails silently. Each check also reads the ports
// package for the capabilities it declares, so that a new one fails every
// check until it is forwarded (ports.Keep…Capabilities) and listed here.
package capstest

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/wagate/wagate/ports"
)

// capability tells whether a decorated port has one optional capability.
type capability[P any] struct {
	name string
	has  func(P) bool
}

func is[C any, P any](name string) capability[P] {
	return capability[P]{name, func(p P) bool { _, ok := any(p).(C); return ok }}
}

// The optional capabilities of each port, by the name the ports package
// gives the port in their doc comments ("… is an optional capability of
// a Queue").
var (
	whatsAppCaps = []capability[ports.WhatsApp]{
		is[ports.WADeviceRemover, ports.WhatsApp]("WADeviceRemover"),
		is[ports.WAReleaser, ports.WhatsApp]("WAReleaser"),
	}
	queueCaps = []capability[ports.Queue]{
		is[ports.JobCounter, ports.Queue]("JobCounter"),
	}
	listed = map[string]string{
		"WADeviceRemover": "WhatsApp adapter",
		"WAReleaser":      "WhatsApp adapter",
		"JobCounter":      "Queue",
	}
)

// WhatsApp checks that decorate keeps every optional capability of a
// WhatsApp adapter, and claims none its adapter lacks.
func WhatsApp(t *testing.T, decorate func(ports.WhatsApp) ports.WhatsApp) {
	t.Helper()
	checkListed(t)
	check(t, whatsAppCaps, decorate(FullWhatsApp{}), decorate(BareWhatsApp{}))
}

// Queue checks the same of a Queue decorator.
func Queue(t *testing.T, decorate func(ports.Queue) ports.Queue) {
	t.Helper()
	checkListed(t)
	check(t, queueCaps, decorate(FullQueue{}), decorate(BareQueue{}))
}

func check[P any](t *testing.T, caps []capability[P], full, bare P) {
	t.Helper()
	for _, c := range caps {
		if !c.has(full) {
			t.Errorf("the decorated %T hides %s", full, c.name)
		}
		if c.has(bare) {
			t.Errorf("the decorated %T claims %s, which its adapter lacks", bare, c.name)
		}
	}
}

// capabilityDoc is how the ports package introduces an optional
// capability.
var capabilityDoc = regexp.MustCompile(`^(\w+) is an optional capability of an? ([\w ]+?)[,:.]`)

// checkListed fails for each capability the ports package declares that
// this package does not check.
func checkListed(t *testing.T) {
	t.Helper()
	caps := declared(t)
	for name, port := range caps {
		if listed[name] != port {
			t.Errorf("ports declares %s, an optional capability of a %s, which capstest does not check: forward it in ports.Keep…Capabilities and list it here", name, port)
		}
	}
	for name := range listed {
		if _, ok := caps[name]; !ok {
			t.Errorf("capstest checks %s, which ports no longer declares as an optional capability", name)
		}
	}
}

// declared reads the ports package's doc comments for its optional
// capabilities: the capability's name and its port's.
func declared(t *testing.T) map[string]string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	files, err := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "..", "ports", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("find the ports package: got %d files, %v", len(files), err)
	}
	caps := map[string]string{}
	for _, path := range slices.DeleteFunc(files, func(p string) bool { return strings.HasSuffix(p, "_test.go") }) {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Doc != nil {
				if m := capabilityDoc.FindStringSubmatch(g.Doc.Text()); m != nil {
					caps[m[1]] = m[2]
				}
			}
		}
	}
	return caps
}

// BareWhatsApp is a WhatsApp adapter without optional capabilities; every
// call succeeds and does nothing.
type BareWhatsApp struct{}

// FullWhatsApp is one with every optional capability.
type FullWhatsApp struct{ BareWhatsApp }

// BareQueue is a Queue without optional capabilities; FullQueue has them
// all.
type BareQueue struct{}

// FullQueue is a Queue with every optional capability.
type FullQueue struct{ BareQueue }

var (
	_ ports.WADeviceRemover = FullWhatsApp{}
	_ ports.WAReleaser      = FullWhatsApp{}
	_ ports.JobCounter      = FullQueue{}
)

func (BareWhatsApp) Connect(context.Context, ports.InstanceID, ports.ConnectOptions) error {
	return nil
}
func (BareWhatsApp) PairCode(context.Context, ports.InstanceID, string) (string, error) {
	return "", nil
}
func (BareWhatsApp) Disconnect(context.Context, ports.InstanceID) error { return nil }
func (BareWhatsApp) Logout(context.Context, ports.InstanceID) error     { return nil }
func (BareWhatsApp) CheckNumbers(context.Context, ports.InstanceID, []string) ([]ports.NumberCheck, error) {
	return nil, nil
}
func (BareWhatsApp) Send(context.Context, ports.InstanceID, ports.WAOutbound) (ports.WASent, error) {
	return ports.WASent{}, nil
}
func (FullWhatsApp) RemoveDevice(context.Context, ports.InstanceID, string) error { return nil }
func (FullWhatsApp) Release(context.Context, ports.InstanceID) error              { return nil }

func (BareQueue) Enqueue(context.Context, ports.Job) error { return nil }
func (FullQueue) CountJobs(context.Context) (map[string]ports.JobCounts, error) {
	return nil, nil
}
