package bulks_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/bulks"
	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/core/templates"
	"github.com/wagate/wagate/ports"
)

// env is a bulks service sending through a real messaging service, on
// the in-memory store, with WhatsApp, the queue and the bus faked.
type env struct {
	store *coretest.Store
	clock *coretest.Clock
	ids   *coretest.IDs
	wa    *coretest.WhatsApp
	queue *coretest.Queue
	bus   *coretest.EventTap
	msgs  *messaging.Service
	svc   *bulks.Service
	p     ports.Principal
	inst  ports.Instance
}

// newBulkEnv returns an env whose instance has the given status, with
// templates rendered by the real renderer and no send delay.
func newBulkEnv(t *testing.T, status ports.InstanceStatus) *env {
	t.Helper()
	e := &env{
		store: coretest.NewStore(), clock: coretest.NewClock(), ids: &coretest.IDs{},
		wa:    &coretest.WhatsApp{SendFunc: func(ports.WAOutbound) (ports.WASent, error) { return ports.WASent{WAMessageID: "3EB0SENT"}, nil }},
		queue: &coretest.Queue{},
	}
	e.bus = coretest.NewEventTap(e.store)
	e.msgs = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: e.ids, Queue: e.queue, WhatsApp: e.wa, Events: coretest.NewEventLog(e.clock, nil),
	}, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second})
	e.svc = bulks.New(bulks.Deps{
		Tx: e.store, Stores: e.store.Stores(), Sender: e.msgs, Clock: e.clock, IDs: e.ids, Queue: e.queue, Events: coretest.NewEventLog(e.clock, nil),
		Render: templates.Render, Backlog: e.store.BulkBacklog(),
	}, bulks.Config{})
	e.p = e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "owner@example.com")
	e.inst = ports.Instance{ID: ports.InstanceID(e.ids.NewID()), SubscriptionID: e.p.SubscriptionID, Name: "one",
		Status: status, JID: "15550001:1@s.whatsapp.net", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.store.Stores().Instances.CreateInstance(t.Context(), e.p.SubscriptionID, e.inst); err != nil {
		t.Fatal(err)
	}
	return e
}

// template stores a template of the env's subscription.
func (e *env) template(t *testing.T, body string) ports.TemplateID {
	t.Helper()
	vars, err := templates.Variables(body)
	if err != nil {
		t.Fatal(err)
	}
	tpl := ports.Template{ID: ports.TemplateID(e.ids.NewID()), Name: "t" + e.ids.NewID(), Body: body, Variables: vars,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.store.Stores().Templates.CreateTemplate(t.Context(), e.p.SubscriptionID, tpl); err != nil {
		t.Fatal(err)
	}
	return tpl.ID
}

func recipients(n int) []bulks.Recipient {
	out := make([]bulks.Recipient, n)
	for i := range out {
		out[i] = bulks.Recipient{To: fmt.Sprintf("+1555%07d", i)}
	}
	return out
}

func (e *env) createBulk(t *testing.T, cmd bulks.CreateCmd) ports.BulkSummary {
	t.Helper()
	b, err := e.svc.Create(t.Context(), e.p, e.inst.ID, cmd)
	if err != nil {
		t.Fatalf("create bulk: %v", err)
	}
	return b
}

// stepJobs returns the ids of the bulk step jobs waiting, sorted.
func (e *env) stepJobs() []string {
	var out []string
	for _, j := range e.queue.Jobs() {
		if j.Type == bulks.JobStep {
			out = append(out, j.ID)
		}
	}
	slices.Sort(out)
	return out
}

// step takes the step job id out of the queue and runs it.
func (e *env) step(t *testing.T, id string) error {
	t.Helper()
	j, ok := e.queue.Take(id)
	if !ok {
		t.Fatalf("no job %s; jobs %v", id, e.stepJobs())
	}
	return e.svc.HandleStep(t.Context(), ports.Delivery{Job: j, Attempt: 1})
}

// pending returns the queued job id; the zero Job if there is none.
func (e *env) pending(id string) ports.Job {
	j, _ := e.queue.Job(id)
	return j
}

// drain runs bulk steps until none is left, at most limit.
func (e *env) drain(t *testing.T, limit int) {
	t.Helper()
	for range limit {
		jobs := e.stepJobs()
		if len(jobs) == 0 {
			return
		}
		if err := e.step(t, jobs[0]); err != nil {
			t.Fatalf("step %s: %v", jobs[0], err)
		}
	}
	t.Fatalf("got step jobs left after %d steps, want the bulk done", limit)
}

func (e *env) bulk(t *testing.T, id ports.BulkID) ports.BulkSummary {
	t.Helper()
	b, err := e.svc.Get(t.Context(), e.p, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bulkStatuses lists the statuses of the bulk.status events of a bulk.
func bulkStatuses(b *coretest.EventTap, id ports.BulkID) []string {
	var out []string
	for _, e := range b.Events() {
		d, err := coretest.DataAs[ports.BulkSummary](e)
		if err == nil && d.ID == id && e.Type == ports.EventBulkStatus {
			out = append(out, string(d.Status))
		}
	}
	return out
}

func fieldsOf(err error) string {
	var got []string
	if pe := ports.AsError(err); pe != nil && pe.Code == ports.EInvalid {
		for _, f := range pe.Fields {
			got = append(got, f.Field)
		}
	}
	return strings.Join(got, ",")
}

func TestCreateBulkValidation(t *testing.T) {
	now := coretest.Epoch
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	text := "hello"
	two := recipients(2)
	dup := []bulks.Recipient{{To: "+1 555 000 0001"}, {To: "15550000001@s.whatsapp.net"}}
	vars := []bulks.Recipient{{To: "+15550000001", Variables: map[string]string{"a": "b"}}}
	tooMany := map[string]string{}
	for i := range bulks.MaxVariables + 1 {
		tooMany[fmt.Sprint("v", i)] = "x"
	}
	tests := []struct {
		name   string
		cmd    bulks.CreateCmd
		fields string // the failed fields; empty: accepted
	}{
		{"text bulk", bulks.CreateCmd{Text: text, Recipients: two}, ""},
		{"10,000 recipients", bulks.CreateCmd{Text: text, Recipients: recipients(bulks.MaxRecipients)}, ""},
		{"no recipients", bulks.CreateCmd{Text: text}, "recipients"},
		{"10,001 recipients", bulks.CreateCmd{Text: text, Recipients: recipients(bulks.MaxRecipients + 1)}, "recipients"},
		{"bad to", bulks.CreateCmd{Text: text, Recipients: []bulks.Recipient{{To: "+1555"}, {To: "+15550000002"}, {To: "x@example.com"}}}, "recipients[0].to,recipients[2].to"},
		{"duplicate after normalisation", bulks.CreateCmd{Text: text, Recipients: dup}, "recipients[1].to"},
		{"neither template nor text", bulks.CreateCmd{Recipients: two}, "text"},
		{"both template and text", bulks.CreateCmd{TemplateID: "t", Text: text, Recipients: two}, "text"},
		{"bad template id", bulks.CreateCmd{TemplateID: "a b", Recipients: two}, "templateId"},
		{"blank text", bulks.CreateCmd{Text: "  ", Recipients: two}, "text"},
		{"text over 4096", bulks.CreateCmd{Text: strings.Repeat("x", messaging.MaxTextLen+1), Recipients: two}, "text"},
		{"variables with text", bulks.CreateCmd{Text: text, Recipients: vars}, "recipients[0].variables"},
		{"too many variables", bulks.CreateCmd{TemplateID: "t", Recipients: []bulks.Recipient{{To: "+15550000001", Variables: tooMany}}}, "recipients[0].variables"},
		{"pacing 0-0", bulks.CreateCmd{Text: text, Recipients: two, Pacing: &bulks.Pacing{}}, ""},
		{"pacing at the bounds", bulks.CreateCmd{Text: text, Recipients: two, Pacing: &bulks.Pacing{Min: 0, Max: bulks.MaxPacing}}, ""},
		{"negative min", bulks.CreateCmd{Text: text, Recipients: two, Pacing: &bulks.Pacing{Min: -time.Millisecond, Max: 0}}, "pacing.minDelayMs"},
		{"max over a minute", bulks.CreateCmd{Text: text, Recipients: two, Pacing: &bulks.Pacing{Max: bulks.MaxPacing + time.Millisecond}}, "pacing.maxDelayMs"},
		{"max below min", bulks.CreateCmd{Text: text, Recipients: two, Pacing: &bulks.Pacing{Min: 2 * time.Second, Max: time.Second}}, "pacing.maxDelayMs"},
		{"scheduled a bit in the past", bulks.CreateCmd{Text: text, Recipients: two, ScheduledAt: at(-30 * time.Second)}, ""},
		{"scheduled in the past", bulks.CreateCmd{Text: text, Recipients: two, ScheduledAt: at(-2 * time.Minute)}, "scheduledAt"},
		{"scheduled 30 days ahead", bulks.CreateCmd{Text: text, Recipients: two, ScheduledAt: at(bulks.MaxSchedule)}, ""},
		{"scheduled too far ahead", bulks.CreateCmd{Text: text, Recipients: two, ScheduledAt: at(bulks.MaxSchedule + time.Second)}, "scheduledAt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newBulkEnv(t, ports.StatusConnected)
			b, err := e.svc.Create(t.Context(), e.p, e.inst.ID, tc.cmd)
			if tc.fields == "" {
				if err != nil || b.Total != len(tc.cmd.Recipients) || b.Counts.Queued != b.Total {
					t.Fatalf("got %+v, %v; want accepted with %d queued", b.Counts, err, len(tc.cmd.Recipients))
				}
				return
			}
			if got := fieldsOf(err); got != tc.fields {
				t.Errorf("got %v (fields %q), want invalid fields %q", err, got, tc.fields)
			}
		})
	}
}

func TestCreateBulkCapsFieldErrors(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	bad := make([]bulks.Recipient, 300)
	for i := range bad {
		bad[i] = bulks.Recipient{To: "nope"}
	}
	_, err := e.svc.Create(t.Context(), e.p, e.inst.ID, bulks.CreateCmd{Text: "hi", Recipients: bad})
	pe := ports.AsError(err)
	if pe == nil || pe.Code != ports.EInvalid {
		t.Fatalf("got %v, want EInvalid", err)
	}
	if n := len(pe.Fields); n != 51 || pe.Fields[50].Field != "recipients" || !strings.Contains(pe.Fields[50].Message, "250 more") {
		t.Errorf("got %d fields ending %+v, want 50 and a count of 250 more", n, pe.Fields[n-1])
	}
}

func TestCreateBulkMissingVariables(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	tpl := e.template(t, "Hi {{name}}, your code is {{code}}")
	_, err := e.svc.Create(t.Context(), e.p, e.inst.ID, bulks.CreateCmd{TemplateID: tpl, Recipients: []bulks.Recipient{
		{To: "+15550000001", Variables: map[string]string{"name": "Ann", "code": "1"}},
		{To: "+15550000002", Variables: map[string]string{"name": "Bob"}},
		{To: "+15550000003"},
	}})
	want := "recipients[1].variables.code,recipients[2].variables.code,recipients[2].variables.name"
	if got := fieldsOf(err); got != want {
		t.Errorf("got %v (fields %q), want %q", err, got, want)
	}
	if n := len(e.stepJobs()); n != 0 {
		t.Errorf("got %d step jobs after a refusal, want none", n)
	}
}

func TestCreateBulkRefusals(t *testing.T) {
	for _, st := range []ports.InstanceStatus{ports.StatusCreated, ports.StatusLoggedOut} {
		e := newBulkEnv(t, st)
		_, err := e.svc.Create(t.Context(), e.p, e.inst.ID, bulks.CreateCmd{Text: "hi", Recipients: recipients(1)})
		if pe := ports.AsError(err); pe == nil || pe.Code != ports.EConflict || pe.Reason != "instance_not_connected" {
			t.Errorf("%s: got %v, want EConflict instance_not_connected", st, err)
		}
	}
	e := newBulkEnv(t, ports.StatusConnected)
	cmd := bulks.CreateCmd{Text: "hi", Recipients: recipients(1)}
	other := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "other@example.com")
	if _, err := e.svc.Create(t.Context(), other, e.inst.ID, cmd); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another tenant's instance: got %v, want ENotFound", err)
	}
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.p.SubscriptionID, InstanceID: e.inst.ID, Scopes: []ports.Scope{ports.ScopeMessagesRead}}
	if _, err := e.svc.Create(t.Context(), key, e.inst.ID, cmd); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("key without messages:send: got %v, want EForbidden", err)
	}
	key.Scopes = []ports.Scope{ports.ScopeMessagesSend}
	if _, err := e.svc.Create(t.Context(), key, "another-instance", cmd); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("key of another instance: got %v, want ENotFound", err)
	}
	// Another tenant's template is a bad field of the request.
	o := newBulkEnv(t, ports.StatusConnected)
	foreign := o.template(t, "Hi")
	_, err := e.svc.Create(t.Context(), e.p, e.inst.ID, bulks.CreateCmd{TemplateID: foreign, Recipients: recipients(1)})
	if got := fieldsOf(err); got != "templateId" {
		t.Errorf("another tenant's template: got %v, want invalid templateId", err)
	}
}

func TestBulkRunsToCompletion(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	tpl := e.template(t, "Hi {{name}}")
	rs := []bulks.Recipient{
		{To: "+15550000001", Variables: map[string]string{"name": "Ann"}},
		{To: "+15550000002", Variables: map[string]string{"name": "Bob", "unused": "x"}},
		{To: "+15550000003", Variables: map[string]string{"name": "Cy"}},
	}
	b := e.createBulk(t, bulks.CreateCmd{TemplateID: tpl, Recipients: rs, Pacing: &bulks.Pacing{Min: time.Second, Max: 2 * time.Second}})
	if b.Status != ports.BulkRunning || b.StartedAt == nil {
		t.Fatalf("got %s started %v, want running and started", b.Status, b.StartedAt)
	}
	e.drain(t, 10)
	var texts []string
	for _, m := range e.wa.Sent {
		texts = append(texts, m.Text)
	}
	if got, want := strings.Join(texts, "|"), "Hi Ann|Hi Bob|Hi Cy"; got != want {
		t.Errorf("got sends %q, want %q in recipient order", got, want)
	}
	got := e.bulk(t, b.ID)
	if got.Status != ports.BulkCompleted || got.CompletedAt == nil || got.Counts != (ports.BulkCounts{Sent: 3}) {
		t.Errorf("got %s %+v completed %v, want completed with 3 sent", got.Status, got.Counts, got.CompletedAt)
	}
	if got, want := bulkStatuses(e.bus, b.ID), []string{"running", "completed"}; !slices.Equal(got, want) {
		t.Errorf("got bulk.status %v, want %v", got, want)
	}
	page, err := e.svc.ListMessages(t.Context(), e.p, b.ID, ports.PageRequest{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Items[0].BulkSeq != 0 || page.Items[0].Text != "Hi Ann" || page.Next == "" {
		t.Fatalf("got %+v, %v; want the first 2 messages in order and a cursor", page, err)
	}
	page, err = e.svc.ListMessages(t.Context(), e.p, b.ID, ports.PageRequest{Limit: 2, After: page.Next})
	if err != nil || len(page.Items) != 1 || page.Items[0].BulkSeq != 2 || page.Next != "" {
		t.Errorf("got %+v, %v; want the third message and no cursor", page, err)
	}
}

func TestBulkTransitions(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(3), Pacing: &bulks.Pacing{}})
	ctx := t.Context()
	conflict := func(what string, err error) {
		t.Helper()
		if !ports.IsCode(err, ports.EConflict) {
			t.Errorf("%s: got %v, want EConflict", what, err)
		}
	}
	conflict("resume running", errOf(e.svc.Resume(ctx, e.p, b.ID)))
	p, err := e.svc.Pause(ctx, e.p, b.ID)
	if err != nil || p.Status != ports.BulkPaused {
		t.Fatalf("pause: got %s, %v; want paused", p.Status, err)
	}
	conflict("pause paused", errOf(e.svc.Pause(ctx, e.p, b.ID)))
	r, err := e.svc.Resume(ctx, e.p, b.ID)
	if err != nil || r.Status != ports.BulkRunning || r.Generation != b.Generation+1 {
		t.Fatalf("resume: got %s gen %d, %v; want running gen %d", r.Status, r.Generation, err, b.Generation+1)
	}
	c, err := e.svc.Cancel(ctx, e.p, b.ID)
	if err != nil || c.Status != ports.BulkCancelled || c.CompletedAt == nil || c.Counts != (ports.BulkCounts{Failed: 3}) {
		t.Fatalf("cancel: got %s %+v, %v; want cancelled, 3 failed", c.Status, c.Counts, err)
	}
	conflict("cancel cancelled", errOf(e.svc.Cancel(ctx, e.p, b.ID)))
	conflict("pause cancelled", errOf(e.svc.Pause(ctx, e.p, b.ID)))
	conflict("resume cancelled", errOf(e.svc.Resume(ctx, e.p, b.ID)))
	page, _ := e.svc.ListMessages(ctx, e.p, b.ID, ports.PageRequest{})
	for _, m := range page.Items {
		if m.Status != ports.MsgFailed || m.ErrorCode != "bulk_cancelled" {
			t.Errorf("message %d: got %s %q, want failed bulk_cancelled", m.BulkSeq, m.Status, m.ErrorCode)
		}
	}
	e.drain(t, 5) // the steps left find the bulk cancelled
	if len(e.wa.Sent) != 0 {
		t.Errorf("got %d sends after cancel, want none", len(e.wa.Sent))
	}
	if got, want := bulkStatuses(e.bus, b.ID), []string{"running", "paused", "running", "cancelled"}; !slices.Equal(got, want) {
		t.Errorf("got bulk.status %v, want %v", got, want)
	}

	// A completed bulk cannot be cancelled, paused or resumed.
	d := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(1), Pacing: &bulks.Pacing{}})
	e.drain(t, 5)
	conflict("cancel completed", errOf(e.svc.Cancel(ctx, e.p, d.ID)))
	conflict("pause completed", errOf(e.svc.Pause(ctx, e.p, d.ID)))
}

// errOf keeps the error of a call.
func errOf(_ ports.BulkSummary, err error) error { return err }

func TestBulkCancelKeepsSentMessages(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(3), Pacing: &bulks.Pacing{}})
	if err := e.step(t, e.stepJobs()[0]); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Cancel(t.Context(), e.p, b.ID)
	if err != nil || c.Counts != (ports.BulkCounts{Sent: 1, Failed: 2}) {
		t.Errorf("got %+v, %v; want 1 sent and 2 failed", c.Counts, err)
	}
	// The cancelled recipients count as failed messages, once.
	now := e.clock.Now()
	days, err := e.store.Stores().Stats.QueryStats(t.Context(), e.p.SubscriptionID, e.inst.ID, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	if err != nil || len(days) != 1 || days[0].Sent != 1 || days[0].Failed != 2 {
		t.Errorf("statistics: got %+v, %v; want one day with 1 sent and 2 failed", days, err)
	}
}

func TestBulkAccessRules(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(1)})
	ctx := t.Context()
	other := e.store.SeedAccount(e.ids, e.clock, ports.TierBasic, "other@example.com")
	if _, err := e.svc.Get(ctx, other, b.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another tenant: got %v, want ENotFound", err)
	}
	if _, err := e.svc.Cancel(ctx, other, b.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another tenant cancels: got %v, want ENotFound", err)
	}
	own := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: e.p.SubscriptionID, InstanceID: e.inst.ID, Scopes: []ports.Scope{ports.ScopeMessagesRead}}
	if _, err := e.svc.Get(ctx, own, b.ID); err != nil {
		t.Errorf("own key with messages:read: got %v, want the bulk", err)
	}
	if _, err := e.svc.Pause(ctx, own, b.ID); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("pause without messages:send: got %v, want EForbidden", err)
	}
	foreign := own
	foreign.InstanceID = "another-instance"
	if _, err := e.svc.Get(ctx, foreign, b.ID); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("key of another instance: got %v, want ENotFound", err)
	}
	if _, err := e.svc.ListMessages(ctx, foreign, b.ID, ports.PageRequest{}); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("key of another instance lists: got %v, want ENotFound", err)
	}
}

func TestBulkOldGenerationStops(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(2), Pacing: &bulks.Pacing{}})
	old := e.stepJobs()
	if _, err := e.svc.Pause(t.Context(), e.p, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Resume(t.Context(), e.p, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.step(t, old[0]); err != nil {
		t.Fatal(err)
	}
	if len(e.wa.Sent) != 0 {
		t.Fatalf("the old generation's step sent %d, want nothing", len(e.wa.Sent))
	}
	e.drain(t, 5)
	if got := e.bulk(t, b.ID); got.Status != ports.BulkCompleted || got.Counts.Sent != 2 || len(e.wa.Sent) != 2 {
		t.Errorf("got %s %+v with %d sends, want completed with 2 sent once each", got.Status, got.Counts, len(e.wa.Sent))
	}
}

func TestBulkPausedStepSendsNothing(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(2), Pacing: &bulks.Pacing{}})
	if _, err := e.svc.Pause(t.Context(), e.p, b.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(t, 3)
	if len(e.wa.Sent) != 0 {
		t.Errorf("got %d sends while paused, want none", len(e.wa.Sent))
	}
}

func TestBulkScheduled(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	at := e.clock.Now().Add(time.Hour)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(1), ScheduledAt: &at, Pacing: &bulks.Pacing{}})
	if b.Status != ports.BulkScheduled || b.StartedAt != nil {
		t.Fatalf("got %s started %v, want scheduled, not started", b.Status, b.StartedAt)
	}
	jobs := e.stepJobs()
	if len(jobs) != 1 || !e.pending(jobs[0]).RunAt.Equal(at) {
		t.Fatalf("got jobs %v, want one step at %v", jobs, at)
	}
	// Run early (a queue may not, but a relay could): it waits.
	err := e.step(t, jobs[0])
	if pe := ports.AsError(err); pe == nil || pe.Code != ports.ERateLimited || pe.RetryAfter != time.Hour {
		t.Fatalf("early step: got %v, want ERateLimited after 1h", err)
	}
	e.queue.Put(ports.Job{ID: jobs[0], Type: bulks.JobStep, Payload: []byte(fmt.Sprintf(`{"sub":%q,"id":%q,"gen":0}`, e.p.SubscriptionID, b.ID))})
	e.clock.Advance(time.Hour)
	e.drain(t, 5)
	got := e.bulk(t, b.ID)
	if got.Status != ports.BulkCompleted || got.StartedAt == nil || !got.StartedAt.Equal(at) || got.Counts.Sent != 1 {
		t.Errorf("got %s started %v %+v, want completed, started at %v", got.Status, got.StartedAt, got.Counts, at)
	}
	if got, want := bulkStatuses(e.bus, b.ID), []string{"scheduled", "running", "completed"}; !slices.Equal(got, want) {
		t.Errorf("got bulk.status %v, want %v", got, want)
	}
}

func TestBulkInstanceOutage(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(3), Pacing: &bulks.Pacing{}})
	setStatus := func(st ports.InstanceStatus) {
		if _, err := e.store.Stores().Instances.UpdateInstance(t.Context(), e.p.SubscriptionID, e.inst.ID, func(i *ports.Instance) error {
			i.Status = st
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setStatus(ports.StatusDisconnected)
	// Hours later the instance is still away: the step waits, nothing fails.
	e.clock.Advance(3 * time.Hour)
	job := e.stepJobs()[0]
	saved := e.pending(job)
	if err := e.step(t, job); !ports.IsCode(err, ports.EUnavailable) {
		t.Fatalf("disconnected: got %v, want EUnavailable", err)
	}
	if got := e.bulk(t, b.ID); got.Counts.Queued != 3 {
		t.Fatalf("got %+v while disconnected, want 3 queued", got.Counts)
	}
	// It comes back: the retried step sends; then it is logged out.
	setStatus(ports.StatusConnected)
	e.queue.Put(saved)
	if err := e.step(t, job); err != nil {
		t.Fatal(err)
	}
	setStatus(ports.StatusLoggedOut)
	e.drain(t, 5)
	got := e.bulk(t, b.ID)
	if got.Status != ports.BulkCompleted || got.Counts != (ports.BulkCounts{Sent: 1, Failed: 2}) {
		t.Errorf("got %s %+v, want completed with 1 sent, 2 failed", got.Status, got.Counts)
	}
	page, _ := e.svc.ListMessages(t.Context(), e.p, b.ID, ports.PageRequest{})
	if m := page.Items[2]; m.ErrorCode != "instance_not_connected" {
		t.Errorf("got error %q, want instance_not_connected", m.ErrorCode)
	}
}

func TestRelayBulksRestartsLostRuns(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(2), Pacing: &bulks.Pacing{Max: time.Second}})
	lost := e.stepJobs()[0]
	lostJob := e.pending(lost)
	e.queue.Take(lost) // the queue lost it
	if n, err := e.svc.Relay(t.Context()); n != 0 || err != nil {
		t.Fatalf("fresh bulk: got %d, %v; want nothing relayed", n, err)
	}
	e.clock.Advance(2 * time.Minute)
	if n, err := e.svc.Relay(t.Context()); n != 1 || err != nil {
		t.Fatalf("idle bulk: got %d, %v; want 1 relayed", n, err)
	}
	// The lost step turns up after all: its generation is gone.
	if err := e.svc.HandleStep(t.Context(), ports.Delivery{Job: lostJob, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if len(e.wa.Sent) != 0 {
		t.Fatalf("the replaced run sent %d, want nothing", len(e.wa.Sent))
	}
	e.drain(t, 5)
	if got := e.bulk(t, b.ID); got.Status != ports.BulkCompleted || len(e.wa.Sent) != 2 {
		t.Errorf("got %s with %d sends, want completed with 2", got.Status, len(e.wa.Sent))
	}
	if n, err := e.svc.Relay(t.Context()); n != 0 || err != nil {
		t.Errorf("completed bulk: got %d, %v; want nothing relayed", n, err)
	}
}

func TestBulkResumesAfterStaleClaim(t *testing.T) {
	e := newBulkEnv(t, ports.StatusConnected)
	b := e.createBulk(t, bulks.CreateCmd{Text: "hi", Recipients: recipients(2), Pacing: &bulks.Pacing{}})
	// A crash left the first recipient sending under a claim.
	page, _ := e.svc.ListMessages(t.Context(), e.p, b.ID, ports.PageRequest{})
	first := page.Items[0]
	if _, err := e.store.Stores().Messages.ClaimForSend(t.Context(), e.p.SubscriptionID, first.ID, e.clock.Now(), e.clock.Now(), "3EB0CLAIMED"); err != nil {
		t.Fatal(err)
	}
	job := e.stepJobs()[0]
	saved := e.pending(job)
	if err := e.step(t, job); !ports.IsCode(err, ports.ERateLimited) {
		t.Fatalf("fresh claim: got %v, want ERateLimited (wait for it)", err)
	}
	e.clock.Advance(time.Hour)
	e.queue.Put(saved)
	e.drain(t, 5)
	if len(e.wa.Sent) != 2 || e.wa.Sent[0].ID != "3EB0CLAIMED" {
		t.Errorf("got sends %+v, want 2, the first under its claimed id", e.wa.Sent)
	}
}
