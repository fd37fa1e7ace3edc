package httpgin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/core/bulks"
	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/core/webhooks"
	"github.com/wagate/wagate/ports"
)

// The fuzz targets drive the real router, decoder and core validation over
// the in-memory store with whatever bytes the fuzzer makes, and assert the
// promise of the API: a 2xx or a 4xx, never a 5xx (a panic is a 500 from
// the recovery middleware). Their seed corpus is in
// testdata/fuzz/<FuzzName>, which plain `go test` replays; `make fuzz`
// explores further.

// nopQueue accepts jobs and runs none: the fuzz only exercises the API.
type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, ports.Job) error { return nil }

// fuzzEnv is the router with every JSON-body module behind it, an account,
// an instance, a template and a webhook to aim the routes at.
type fuzzEnv struct {
	env                   *testEnv
	token, inst, tmpl, wh string
	jsonRoutes, lists     []string
}

func newFuzzEnv(t *testing.T) *fuzzEnv {
	env := newTestEnvWith(t, Options{}, ports.DefaultTiers(), nil, func(s *Services, st *coretest.Store, clock ports.Clock) {
		s.Messaging = messaging.New(messaging.Deps{Tx: st, Stores: st.Stores(), Outbox: st.Outbox(),
			Clock: clock, IDs: uuidIDs{}, Queue: nopQueue{}, Events: coretest.NewEventLog(clock, nil)}, messaging.Config{})
		s.Bulks = bulks.New(bulks.Deps{Tx: st, Stores: st.Stores(), Sender: s.Messaging, Clock: clock, IDs: uuidIDs{},
			Queue: nopQueue{}, Render: templates.Render, Events: coretest.NewEventLog(clock, nil)}, bulks.Config{})
		s.Templates = templates.New(templates.Deps{Tx: st, Stores: st.Stores(), Clock: clock, IDs: uuidIDs{}})
		s.Webhooks = webhooks.New(webhooks.Deps{Tx: st, Stores: st.Stores(), Outbox: st.DeliveryOutbox(),
			Clock: clock, IDs: uuidIDs{}, Queue: nopQueue{}, Encode: eventjson.Encode,
			Events: coretest.NewEventLog(clock, nil), EventBacklog: st.EventBacklog()}, webhooks.Config{})
	})
	f := &fuzzEnv{env: env}
	f.token, _ = env.account("fuzz@example.com")
	f.inst = f.create("/api/v1/instances", `{"name":"fuzz"}`)
	f.tmpl = f.create("/api/v1/templates", `{"name":"t","body":"Hi {{name}}"}`)
	i, tp := "/api/v1/instances/"+f.inst, "/api/v1/templates/"+f.tmpl
	f.wh = f.create(i+"/webhooks", `{"url":"https://example.com/h","events":["message.received"]}`)
	f.jsonRoutes = []string{
		"POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh",
		"POST /api/v1/auth/password", "POST /api/v1/instances", "PATCH " + i, "POST " + i + "/api-keys",
		"POST " + i + "/messages/text", "POST " + i + "/messages/location", "POST " + i + "/messages/image",
		"POST " + i + "/messages/document", "POST " + i + "/messages/audio", "POST " + i + "/webhooks",
		"POST /api/v1/templates", "PATCH " + tp, "POST " + tp + "/render", "POST " + i + "/bulk",
		"PATCH " + i + "/webhooks/" + f.wh, "POST " + i + "/pair-code", "POST " + i + "/contacts/check",
	}
	f.lists = []string{"/api/v1/instances", i + "/api-keys", i + "/messages", i + "/webhooks",
		"/api/v1/templates", "/api/v1/bulk", "/api/v1/messages"}
	return f
}

// create posts body and returns the new resource's id.
func (f *fuzzEnv) create(path, body string) string {
	w := f.env.do(req{method: "POST", path: path, body: body, token: f.token})
	var out struct {
		ID string `json:"id"`
	}
	decodeBody(f.env.t, w, &out)
	if out.ID == "" {
		f.env.t.Fatalf("create %s: got %d %s, want an id", path, w.Code, w.Body)
	}
	return out.ID
}

// check fails on a 5xx or anything that is not an HTTP status.
func (f *fuzzEnv) check(t *testing.T, what string, code int, body string) {
	if code < 200 || code >= 500 {
		t.Fatalf("%s: got %d %s, want 2xx or 4xx", what, code, body)
	}
}

// FuzzRequests posts a body to one of the JSON routes and reads one list
// with the query the fuzzer makes.
func FuzzRequests(f *testing.F) {
	var (
		once sync.Once
		env  *fuzzEnv
	)
	f.Fuzz(func(t *testing.T, route uint8, body, query string) {
		once.Do(func() { env = newFuzzEnv(t) })
		r := env.jsonRoutes[int(route)%len(env.jsonRoutes)]
		method, path, _ := strings.Cut(r, " ")
		w := env.env.do(req{method: method, path: path, body: body, token: env.token,
			header: map[string]string{"Content-Type": "application/json"}})
		env.check(t, r, w.Code, w.Body.String())

		list := env.lists[int(route)%len(env.lists)]
		hr, err := http.NewRequest("GET", list, nil)
		if err != nil {
			t.Fatal(err)
		}
		hr.URL.RawQuery = query
		if _, err := url.ParseQuery(query); err != nil {
			hr.URL.RawQuery = url.Values{"cursor": {query}}.Encode()
		}
		hr.Header.Set("Authorization", "Bearer "+env.token)
		rec := httptest.NewRecorder()
		env.env.engine.ServeHTTP(rec, hr)
		env.check(t, "GET "+list+"?"+hr.URL.RawQuery, rec.Code, rec.Body.String())
	})
}

// FuzzMultipart sends a multipart media request with the fuzzer's body.
func FuzzMultipart(f *testing.F) {
	var (
		once sync.Once
		env  *fuzzEnv
	)
	f.Fuzz(func(t *testing.T, kind uint8, body string) {
		once.Do(func() { env = newFuzzEnv(t) })
		path := "/api/v1/instances/" + env.inst + "/messages/" + []string{"image", "document", "audio"}[int(kind)%3]
		w := env.env.do(req{method: "POST", path: path, body: body, token: env.token,
			header: map[string]string{"Content-Type": "multipart/form-data; boundary=b"}})
		env.check(t, path, w.Code, w.Body.String())
	})
}

// TestTextRuleThroughRouter: the probe's NUL, cursor, case and duplicate
// findings are 422 naming the field, through the real router and core.
func TestTextRuleThroughRouter(t *testing.T) {
	f := newFuzzEnv(t)
	i := "/api/v1/instances/" + f.inst
	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/api/v1/auth/login", `{"email":"a\u0000@example.com","password":"x"}`, "email"},
		{"POST", "/api/v1/auth/login", `{"email":"` + strings.Repeat("a", 300) + `@example.com","password":"x"}`, "email"},
		{"POST", "/api/v1/auth/login", `{"email":"a@example.com","password":"` + strings.Repeat("p", 1025) + `"}`, "password"},
		{"GET", "/api/v1/instances?cursor=AA", "", "cursor"},
		{"GET", "/api/v1/templates?cursor=%00", "", "cursor"},
		{"GET", "/api/v1/stats?instanceId=%00", "", "instanceId"},
		{"GET", i + "/messages?chat=%FF", "", "chat"},
		{"POST", i + "/messages/text", `{"to":"+15550001111","text":"hi\u0000"}`, "text"},
		{"POST", i + "/messages/text", `{"to":"+15550001111","text":"hi","replyTo":"\u0000"}`, "replyTo"},
		{"POST", i + "/messages/location", `{"to":"+15550001111","latitude":1,"longitude":2,"name":"\u0000"}`, "name"},
		{"POST", "/api/v1/templates", `{"name":"t\u0000","body":"b"}`, "name"},
		{"POST", "/api/v1/templates", `{"name":"t","body":"b\u0000"}`, "body"},
		{"POST", "/api/v1/templates", `{"name":"\u202Et","body":"b"}`, "name"},
		{"POST", i + "/bulk", `{"text":"hi\u0000","recipients":[{"to":"+15550001111"}]}`, "text"},
		{"POST", i + "/webhooks", `{"url":"https://example.com/h","events":["message.received"],"description":"d\u0000"}`, "description"},
		{"POST", "/api/v1/instances", `{"name":"x","metadata":{"k\u0000":"v"}}`, "metadata.k"},
		{"POST", "/api/v1/instances", `{"name":"x","metadata":{"k":"v\u0000"}}`, "metadata.k"},
		{"POST", "/api/v1/instances", `{"name":"zero\u200Bwidth"}`, "name"},
		{"POST", "/api/v1/instances", `{"Name":"x"}`, "Name"},
		{"POST", "/api/v1/instances", `{"name":"a","name":"b"}`, "name"},
		{"POST", i + "/api-keys", `{"name":"k\u2066"}`, "name"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := f.env.do(req{method: tc.method, path: tc.path, body: tc.body, token: f.token})
			p := wantProblem(t, w, http.StatusUnprocessableEntity, "validation_failed")
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Errorf("body %s: got errors %+v, want one on field %q", tc.body, p.Errors, tc.field)
			}
		})
	}
}
