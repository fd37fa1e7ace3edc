package browser

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe/axe.min.js
var axeSource string

// maxFirstLoad is the budget of the first page load, compressed.
const maxFirstLoad = 200 << 10

// TestConsoleFlow walks the console as a new user would: sign up, create an
// instance, link it with the sandbox's simulated phone, send a test message
// and watch it get delivered, add a webhook and see its delivery, run a bulk
// send from a CSV file to completion and find the messages in the chart.
func TestConsoleFlow(t *testing.T) {
	chromium := chromiumPath(t)
	for _, b := range []backend{sqlite, postgres, postgresRedis} {
		t.Run(b.name, func(t *testing.T) {
			srv := startSandbox(t, b, nil)
			ctx := browser(t, chromium, 1100, 800)
			f := &flow{t: t, ctx: ctx, url: srv.URL, shots: b.name == "sqlite" && os.Getenv("UPDATE_SCREENSHOTS") == "1"}
			f.run(newHook(t))
		})
	}
}

type flow struct {
	t     *testing.T
	ctx   context.Context
	url   string
	shots bool
	axe   map[string]int // violations by impact, over every page checked
}

// do runs actions with a deadline, failing the test with what was being done.
func (f *flow) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		f.t.Fatalf("%s: %v\npage: %s", what, err, f.text())
	}
}

// waitJS waits until the JavaScript expression is truthy.
func (f *flow) waitJS(what, expr string) {
	f.t.Helper()
	f.do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(25*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
}

func eval[T any](f *flow, expr string) T {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		f.t.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// text is the page's visible text, for failure messages.
func (f *flow) text() string {
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	return s
}

func (f *flow) fill(form string, fields map[string]string) {
	f.t.Helper()
	for name, v := range fields {
		sel := chromedp.CSS(fmt.Sprintf(`%s [name=%q]`, form, name))
		f.do("fill "+name, chromedp.WaitVisible(sel), chromedp.SendKeys(sel, v))
	}
}

func (f *flow) submit(form string) {
	f.t.Helper()
	f.do("submit "+form, chromedp.Click(chromedp.CSS(form+` button[type=submit]`)))
}

func (f *flow) click(sel string) {
	f.t.Helper()
	f.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

func (f *flow) screenshot(name string) {
	if !f.shots {
		return
	}
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	time.Sleep(300 * time.Millisecond) // let the last paint settle
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		f.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	} `json:"violations"`
}

// checkAxe runs axe-core in the page and fails on serious or critical
// findings; minor and moderate ones are logged.
func (f *flow) checkAxe(page string) {
	f.t.Helper()
	if f.axe == nil {
		f.axe = map[string]int{}
	}
	eval[chromedp.Void](f, `window.axe ? true : (function(){`+axeSource+`; return true})()`)
	raw := eval[string](f, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r))`)
	var res axeResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		f.t.Fatalf("axe result: %v", err)
	}
	for _, v := range res.Violations {
		f.axe[v.Impact]++
		msg := fmt.Sprintf("axe on %s: %s (%s): %s, e.g. %v", page, v.ID, v.Impact, v.Help, v.Nodes[0].Target)
		if v.Impact == "serious" || v.Impact == "critical" {
			f.t.Error(msg)
		} else {
			f.t.Log(msg)
		}
	}
}

// firstLoadBytes sums what the browser transferred for the page and its
// resources (compressed, with headers) before any user action.
func (f *flow) firstLoadBytes() int {
	return eval[int](f, `(() => {
		const n = performance.getEntriesByType("navigation")[0];
		let sum = n ? n.transferSize : 0;
		for (const r of performance.getEntriesByType("resource")) if (!r.name.includes("/api/")) sum += r.transferSize;
		return sum;
	})()`)
}

func (f *flow) run(h *hook) {
	t := f.t
	email := fmt.Sprintf("browser-%d@example.com", time.Now().UnixNano())

	// Sign up. The first load fits the budget.
	f.do("open the console", chromedp.Navigate(f.url+"/#/register"), chromedp.WaitVisible(chromedp.CSS(`#register-form`)))
	size := f.firstLoadBytes()
	t.Logf("first load: %d bytes compressed", size)
	if size <= 0 || size > maxFirstLoad {
		t.Errorf("first load: got %d bytes, want 1..%d", size, maxFirstLoad)
	}
	f.checkAxe("register")
	// A field error from the API lands next to its field.
	f.fill("#register-form", map[string]string{"name": "Ada", "email": email, "password": "short"})
	f.submit("#register-form")
	f.waitJS("password field error", `document.querySelector('#register-form [data-field=password] .err').textContent.length > 0`)
	f.screenshot("register-errors")
	f.do("fix the password", chromedp.SetValue(chromedp.CSS(`#register-form [name=password]`), "correct horse battery"))
	f.submit("#register-form")
	f.waitJS("instances page", `!!document.querySelector('#create-instance')`)
	if eval[bool](f, `document.cookie.includes("wagate_refresh") || Object.keys(localStorage).length > 0 || Object.keys(sessionStorage).length > 0`) {
		t.Errorf("got a token visible to scripts (document.cookie or storage), want none")
	}

	// Create an instance and connect it: the QR code appears.
	f.fill("#create-instance", map[string]string{"name": "support"})
	f.submit("#create-instance")
	f.waitJS("instance page", `!!document.querySelector('#connect')`)
	f.checkAxe("instance")
	f.click("#connect")
	f.waitJS("QR code", `(document.querySelector('#qr-image')||{}).src?.startsWith("data:image/png")`)
	f.waitJS("QR countdown", `/expires in \d+ s/.test(document.querySelector('#qr-countdown').textContent)`)
	f.checkAxe("instance with QR")
	f.screenshot("link-qr")

	// A reload keeps the session: the refresh cookie brings a new access token.
	f.do("reload", chromedp.Reload())
	f.waitJS("instance page after reload", `!!document.querySelector('#instance-status')`)
	f.waitJS("QR after reload", `(document.querySelector('#qr-image')||{}).src?.startsWith("data:image/png")`)

	// The simulated phone scans; the badge turns connected with no reload.
	f.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
	f.click("#sandbox-scan")
	f.waitJS("connected badge", `document.querySelector('#instance-status')?.dataset.status === "connected"`)
	if !eval[bool](f, `window.__noReload === true`) {
		t.Fatal("the page reloaded; want the badge to change live")
	}

	// Send a test message and watch it reach delivered.
	f.fill("#send-form", map[string]string{"to": "+15550001234", "text": "hello from the console"})
	f.submit("#send-form")
	f.waitJS("message delivered", `["delivered","read"].includes(document.querySelector('#test-status')?.dataset.status)`)
	f.screenshot("instance-connected")

	// An image upload goes the same way.
	img := filepath.Join(t.TempDir(), "dot.png")
	writePNG(t, img)
	f.do("clear the text", chromedp.SetValue(chromedp.CSS(`#send-form [name=text]`), "an image caption"))
	f.do("choose the image", chromedp.SetUploadFiles(chromedp.CSS(`#send-form [name=file]`), []string{img}))
	f.do("forget the last status", chromedp.Evaluate[chromedp.Void](`document.querySelector('#test-status').remove()`))
	f.submit("#send-form")
	f.waitJS("image delivered", `["delivered","read"].includes(document.querySelector('#test-status')?.dataset.status)`)

	// Instances list shows it connected.
	f.do("instances", chromedp.Navigate(f.url+"/#/instances"))
	f.waitJS("instances list", `[...document.querySelectorAll('#instance-list .badge')].some(b => b.dataset.status === "connected")`)
	f.screenshot("instances")

	// History shows the message.
	f.do("history", chromedp.Evaluate[chromedp.Void](`location.hash = document.querySelector('[data-instance=support]').getAttribute('href') + "/messages"`))
	f.waitJS("message in history", `document.querySelector('#message-list')?.textContent.includes("hello from the console")`)
	f.checkAxe("messages")
	f.waitJS("image preview", `[...document.querySelectorAll('#message-list img')].some(i => i.src.startsWith("blob:") && i.naturalWidth > 0)`)

	// A webhook: the secret is shown once, the test event is delivered and
	// the delivery log shows it.
	f.do("webhooks tab", chromedp.Evaluate[chromedp.Void](`location.hash = location.hash.replace(/messages$/, "webhooks")`))
	f.fill("#webhook-form", map[string]string{"url": h.URL + "/hook"})
	f.submit("#webhook-form")
	f.waitJS("webhook secret", `document.querySelector('#webhook-secret')?.textContent.startsWith("whsec_")`)
	f.do("send test", chromedp.Click(chromedp.Search(`//button[text()="Send test"]`)))
	f.waitJS("delivery in the log", `[...document.querySelectorAll('.deliveries td')].some(td => td.textContent === "webhook.test") && [...document.querySelectorAll('.deliveries .badge')].some(b => b.dataset.status === "delivered")`)
	if !h.got("webhook.test") {
		t.Error("the receiver got no webhook.test event")
	}
	f.checkAxe("webhooks")
	f.screenshot("webhooks")

	// An API key is shown once, works, and is revoked.
	f.do("keys tab", chromedp.Evaluate[chromedp.Void](`location.hash = location.hash.replace(/webhooks$/, "keys")`))
	f.fill("#key-form", map[string]string{"name": "ci"})
	f.submit("#key-form")
	f.waitJS("key shown once", `document.querySelector('#key-secret')?.textContent.startsWith("wag_")`)
	key := eval[string](f, `document.querySelector('#key-secret').textContent`)
	if code := apiStatus(t, f.url+"/api/v1/instance", key); code != 200 {
		t.Fatalf("the new key: got %d on /api/v1/instance, want 200", code)
	}
	f.checkAxe("keys")
	f.do("accept confirmations", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	f.do("revoke", chromedp.Click(chromedp.Search(`//button[text()="Revoke"]`)))
	f.waitJS("key list empty", `document.querySelector('#key-list').textContent.includes("No keys yet")`)
	if code := apiStatus(t, f.url+"/api/v1/instance", key); code != 401 {
		t.Fatalf("the revoked key: got %d, want 401", code)
	}

	// A template with a live preview.
	f.do("templates", chromedp.Navigate(f.url+"/#/templates"))
	f.fill("#template-form", map[string]string{"name": "greeting", "body": "Hi {{name}}, your code is {{code}}"})
	f.waitJS("template variables", `!!document.querySelector('[name="var-code"]')`)
	f.fill("#main", map[string]string{"var-name": "Bo"})
	f.waitJS("live preview", `document.querySelector('#template-preview').textContent === "Hi Bo, your code is {{code}}"`)
	f.submit("#template-form")
	f.waitJS("template saved", `document.querySelector('#template-list')?.textContent.includes("greeting")`)
	f.checkAxe("templates")

	// Bulk from a CSV file: columns map to variables, a preview, then the
	// progress bar moves to completed.
	csv := filepath.Join(t.TempDir(), "recipients.csv")
	var rows strings.Builder
	rows.WriteString("phone,name,code\n")
	const recipients = 6
	for i := range recipients {
		fmt.Fprintf(&rows, "+1555000%04d,\"Person %d\",C%d\n", 2000+i, i, i)
	}
	if err := os.WriteFile(csv, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f.do("bulk", chromedp.Navigate(f.url+"/#/bulk"), chromedp.WaitVisible(chromedp.CSS(`#bulk-form`)))
	f.do("choose template", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#bulk-form [name=templateId]'); s.value = [...s.options].find(o => o.text === "greeting").value; s.dispatchEvent(new Event("change")); })()`))
	f.do("upload CSV", chromedp.SetUploadFiles(chromedp.CSS(`#bulk-form [name=csv]`), []string{csv}))
	f.waitJS("bulk preview", `document.querySelectorAll('#bulk-preview li').length === 3 && document.querySelector('#bulk-preview').textContent.includes("Hi Person 0, your code is C0")`)
	f.checkAxe("bulk")
	f.screenshot("bulk-preview")
	f.submit("#bulk-form")
	f.waitJS("progress bar", `!!document.querySelector('#bulk-progress')`)
	var seen []int
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// The status first: the page shows it with the progress of the
		// same poll, so once it reads completed the progress read after
		// it is the final one (read the other way round, a poll landing
		// between the two reads left the last value seen one short).
		status := eval[string](f, `document.querySelector('#bulk-status')?.dataset.status || ""`)
		done := eval[int](f, `Number(document.querySelector('#bulk-progress').value)`)
		if !slices.Contains(seen, done) {
			seen = append(seen, done)
		}
		if done == recipients && len(seen) > 1 && f.shots && !slices.Contains(seen, -1) {
			seen = append(seen, -1) // marker: screenshot taken
		}
		if status == "completed" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	seen = slices.DeleteFunc(seen, func(v int) bool { return v < 0 })
	if st := eval[string](f, `document.querySelector('#bulk-status')?.dataset.status || ""`); st != "completed" {
		t.Fatalf("bulk: got status %q, want completed; progress seen %v", st, seen)
	}
	if len(seen) < 3 || seen[len(seen)-1] != recipients {
		t.Errorf("bulk progress: got values %v, want it to move through at least one step between start and %d", seen, recipients)
	}
	t.Logf("bulk progress values seen: %v", seen)
	f.screenshot("bulk-progress")

	// A slow bulk of plain text is paused, resumed and cancelled.
	f.do("bulk again", chromedp.Navigate(f.url+"/#/bulk"), chromedp.WaitVisible(chromedp.CSS(`#bulk-form`)))
	f.fill("#bulk-form", map[string]string{"text": "slow news", "minDelayMs": "1500", "maxDelayMs": "1500"})
	f.do("upload CSV", chromedp.SetUploadFiles(chromedp.CSS(`#bulk-form [name=csv]`), []string{csv}))
	f.waitJS("bulk preview", `document.querySelector('#bulk-preview')?.textContent.includes("slow news")`)
	f.submit("#bulk-form")
	f.click("#bulk-pause")
	f.waitJS("paused", `document.querySelector('#bulk-status')?.dataset.status === "paused"`)
	f.click("#bulk-resume")
	f.waitJS("running", `document.querySelector('#bulk-status')?.dataset.status === "running"`)
	f.click("#bulk-cancel")
	f.waitJS("cancelled", `document.querySelector('#bulk-status')?.dataset.status === "cancelled"`)
	if sent := eval[int](f, `Number(document.querySelector('#bulk-progress').dataset.sent)`); sent >= recipients {
		t.Errorf("cancelled bulk: got %d of %d sent, want it stopped early", sent, recipients)
	}

	// The chart counts the messages: 2 tests + 6 bulk sends at least.
	f.do("stats", chromedp.Navigate(f.url+"/#/stats"))
	f.waitJS("chart", `document.querySelectorAll('#stats-chart rect[data-series=sent], #stats-chart rect[data-series=delivered], #stats-chart rect[data-series=read]').length > 0`)
	f.waitJS("totals", `(() => { const n = (k) => Number(document.querySelector('[data-total='+k+']').textContent); return n("sent") >= 8 })()`)
	f.checkAxe("stats")
	f.screenshot("stats")

	// The audit log, then a phone-sized screen.
	f.do("audit", chromedp.Navigate(f.url+"/#/audit"))
	f.waitJS("audit entries", `document.querySelectorAll('#audit-list tbody tr').length > 0`)
	f.checkAxe("audit")
	f.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)), chromedp.Navigate(f.url+"/#/instances"))
	f.waitJS("instances on a phone", `!!document.querySelector('#instance-list .badge')`)
	if w := eval[int](f, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("phone screen: got page width %d, want no horizontal scroll past 390", w)
	}
	f.screenshot("phone")

	// Logging out clears the cookie: a reload lands on the login page.
	f.click("#logout")
	f.waitJS("login page", `!!document.querySelector('#login-form')`)
	f.do("reload after logout", chromedp.Reload())
	f.waitJS("still logged out", `!!document.querySelector('#login-form')`)
	f.checkAxe("login")
	t.Logf("axe violations by impact: %v (serious and critical fail the test)", f.axe)
}

// writePNG writes a small PNG image.
func writePNG(t *testing.T, path string) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range 16 {
		m.Set(i, i, color.RGBA{R: 11, G: 110, B: 79, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// apiStatus is the status of a GET with a bearer token.
func apiStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
