package browser

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/test/testserver"
)

// TestConsoleMembers manages a team in the console: the owner invites a
// developer and a viewer (each link shown once), each accepts in a browser
// of their own and lands signed in, seeing only the controls of their role;
// the owner changes a role, revokes a pending invitation, removes the viewer
// (whose console goes back to the login page) and hands ownership over.
func TestConsoleMembers(t *testing.T) {
	eachBackend(t, []backend{sqlite, postgres, postgresRedis}, nil, func(t *testing.T, srv *testserver.Server, chromium string) {
		owner := &flow{t: t, ctx: browser(t, chromium, 1100, 800), url: srv.URL,
			shots: t.Name() == "TestConsoleMembers/sqlite" && os.Getenv("UPDATE_SCREENSHOTS") == "1"}
		owner.manageMembers(chromium)
	})
}

func (f *flow) manageMembers(chromium string) {
	t, url := f.t, f.url
	const (
		dev    = "dev@example.com"
		viewer = "viewer@example.com"
		extra  = "extra@example.com"
	)
	f.do("open", chromedp.Navigate(f.url+"/#/register"), chromedp.WaitVisible(chromedp.CSS(`#register-form`)))
	f.fill("#register-form", map[string]string{"name": "Olga Owner", "email": "owner@example.com", "password": "correct horse battery"})
	f.submit("#register-form")
	f.fill("#create-instance", map[string]string{"name": "shop"})
	f.submit("#create-instance")
	f.waitJS("instance page", `!!document.querySelector('#connect')`)

	// The members page: the owner alone, the invite form, no invitations.
	f.do("members", chromedp.Navigate(f.url+"/#/members"))
	f.waitJS("members page", `!!document.querySelector('#invite-form') && document.querySelectorAll('#member-rows tr').length === 1`)
	f.checkAxe("members")

	// A bad email gets the API's message next to the field.
	f.fill("#invite-form", map[string]string{"email": "not-an-email"})
	f.submit("#invite-form")
	f.waitJS("email field error", `document.querySelector('#invite-form [data-field=email] .err').textContent.length > 0 &&
		document.querySelector('#invite-form [name=email]').getAttribute("aria-invalid") === "true"`)

	// Two invitations; each link is shown once, the second replaces the first.
	devLink := f.invite(dev, "developer")
	viewerLink := f.invite(viewer, "viewer")
	devToken := devLink[strings.Index(devLink, "token=")+len("token="):]
	if eval[bool](f, `document.body.textContent.includes(`+jsString(devToken)+`)`) {
		t.Error("the first invitation's token is still on the page after the second invitation; want it shown once")
	}
	f.waitJS("two pending invitations", `document.querySelectorAll('#invitation-rows tr').length === 2`)
	f.do("reload", chromedp.Reload())
	f.waitJS("members after reload", `document.querySelectorAll('#invitation-rows tr').length === 2`)
	if eval[bool](f, `document.body.textContent.includes("token=") || !!document.querySelector('#invite-link')`) {
		t.Error("an invitation link is on the page after a reload; want it shown only once")
	}

	// The developer accepts in a browser of their own (a fresh cookie jar).
	// A short password is refused next to its field first.
	d := &flow{t: t, ctx: browser(t, chromium, 1000, 760), url: url}
	d.do("open the invitation", chromedp.Navigate(devLink))
	d.waitJS("accept form with the token", `document.querySelector('#accept-form [name=token]')?.value === `+jsString(devToken))
	if d.eval(`location.hash`) != "#/accept" {
		t.Errorf("got hash %q after opening the link, want the token out of the address", d.eval(`location.hash`))
	}
	d.checkAxe("accept")
	d.fill("#accept-form", map[string]string{"name": "Dev Eloper", "password": "short"})
	d.submit("#accept-form")
	d.waitJS("password field error", `document.querySelector('#accept-form [data-field=password] .err').textContent.length > 0`)
	d.do("a real password", chromedp.SetValue(chromedp.CSS(`#accept-form [name=password]`), "developer password"))
	d.submit("#accept-form")
	d.waitJS("developer signed in", `!!document.querySelector('#instance-list') && !!document.querySelector('#nav a[href="#/bulk"]')`)
	if eval[bool](d, `document.cookie.includes("wagate_refresh") || Object.keys(localStorage).length > 0 || Object.keys(sessionStorage).length > 0`) {
		t.Error("got a token visible to scripts after accepting, want none")
	}
	// The session is the cookie one: a reload keeps it.
	d.do("reload", chromedp.Reload())
	d.waitJS("developer still signed in", `!!document.querySelector('#instance-list') && !!document.querySelector('#create-instance')`)
	if eval[bool](d, `!!document.querySelector('#nav a[href="#/audit"]')`) {
		t.Error("a developer sees the Audit log link (admin only)")
	}
	d.do("members as developer", chromedp.Navigate(url+"/#/members"))
	d.waitJS("members list", `document.querySelectorAll('#member-rows tr').length === 2`)
	if eval[bool](d, `!!document.querySelector('#invite-form, #invitation-list, #member-list select, #member-list button')`) {
		t.Error("a developer sees member management controls")
	}

	// The viewer accepts in a third browser and sees no sending, linking or
	// inviting controls.
	v := &flow{t: t, ctx: browser(t, chromium, 1000, 760), url: url}
	v.do("open the invitation", chromedp.Navigate(viewerLink))
	v.fill("#accept-form", map[string]string{"name": "Vi Ewer", "password": "viewer password"})
	v.submit("#accept-form")
	v.waitJS("viewer signed in", `!!document.querySelector('#instance-list [data-instance=shop]')`)
	if eval[bool](v, `!!document.querySelector('#create-instance, #nav a[href="#/bulk"], #nav a[href="#/templates"], #nav a[href="#/audit"]')`) {
		t.Error("a viewer sees the new instance form or the templates, bulk or audit links")
	}
	v.click(`#instance-list [data-instance=shop]`)
	v.waitJS("instance page as viewer", `!!document.querySelector('#instance-status')`)
	if eval[bool](v, `!!document.querySelector('#connect, #send-form, #pair-form, .tabs a[href$="/keys"], .tabs a[href$="/webhooks"]')`) {
		t.Error("a viewer sees the connect button, the send form or the keys and webhooks tabs")
	}
	v.checkAxe("instance as viewer")
	v.do("members as viewer", chromedp.Navigate(url+"/#/members"))
	v.waitJS("members list", `document.querySelectorAll('#member-rows tr').length === 3`)
	if eval[bool](v, `!!document.querySelector('#invite-form, #invitation-list, #member-list select, #member-list button')`) {
		t.Error("a viewer sees member management controls")
	}
	v.checkAxe("members as viewer")

	// The owner's page picks the new members up on its own; the accepted
	// invitations are gone.
	f.waitJS("three members", `document.querySelectorAll('#member-rows tr').length === 3 && document.querySelectorAll('#invitation-rows tr').length === 0`)

	// A poll leaves the controls alone: the focus stays on the select.
	f.do("focus a role", chromedp.Evaluate[chromedp.Void](`(window.__sel = document.querySelector('[data-member="`+viewer+`"] select')).focus()`))
	time.Sleep(5500 * time.Millisecond)
	if !eval[bool](f, `document.activeElement === window.__sel && window.__sel.isConnected`) {
		t.Error("the focus left the role select after a poll; want the controls kept")
	}

	// A pending invitation is revoked; its token no longer works.
	extraLink := f.invite(extra, "admin")
	f.waitJS("extra pending", `!!document.querySelector('[data-invitation="`+extra+`"]')`)
	f.checkAxe("members with invitations")
	if f.shots {
		// Tall enough for the list, the link shown once and the pending one.
		f.do("taller screen", chromedp.EmulateViewport(1100, 880, chromedp.EmulateScale(1)))
		f.screenshot("members")
	}
	f.do("accept confirmations", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	f.click(`[data-invitation="` + extra + `"] button`)
	f.waitJS("invitation revoked", `!document.querySelector('[data-invitation="`+extra+`"]') && document.querySelector('#invitation-list').textContent.includes("No pending invitations")`)
	extraToken := extraLink[strings.Index(extraLink, "token=")+len("token="):]
	if code := postStatus(t, url+"/api/v1/auth/accept-invitation", `{"token":"`+extraToken+`","password":"extra password","name":"Ex"}`); code != http.StatusUnauthorized {
		t.Errorf("accepting a revoked invitation: got %d, want 401", code)
	}

	// The owner turns the developer into a viewer; the developer's console
	// follows: the bulk link goes away.
	f.do("pick viewer", chromedp.SetValue(chromedp.CSS(`[data-member="`+dev+`"] select`), "viewer"))
	f.click(`[data-member="` + dev + `"] button[data-k=save-role]`)
	f.waitJS("role changed", `document.querySelector('[data-member="`+dev+`"] select')?.value === "viewer" && document.querySelector('#toast').textContent.includes("is now viewer")`)
	d.do("members again", chromedp.Navigate(url+"/#/instances"), chromedp.Navigate(url+"/#/members"))
	d.waitJS("developer is a viewer now", `!document.querySelector('#nav a[href="#/bulk"]') && document.querySelector('#main').textContent.includes("You are a viewer")`)

	// The owner removes the viewer: the viewer's next call fails and their
	// console goes back to the login page.
	f.click(`[data-member="` + viewer + `"] button[data-k=remove]`)
	f.waitJS("viewer removed", `!document.querySelector('[data-member="`+viewer+`"]') && document.querySelectorAll('#member-rows tr').length === 2`)
	v.do("next call", chromedp.Navigate(url+"/#/instances"))
	v.waitJS("removed viewer at the login page", `!!document.querySelector('#login-form')`)
	v.do("reload", chromedp.Reload())
	v.waitJS("still at the login page", `!!document.querySelector('#login-form')`)
	// The revoked invitation's link is refused in the console too.
	v.do("open the revoked link", chromedp.Navigate(extraLink))
	v.fill("#accept-form", map[string]string{"name": "Ex Tra", "password": "extra password"})
	v.submit("#accept-form")
	v.waitJS("revoked link refused", `document.querySelector('#accept-form .result.error')?.textContent.includes("401")`)

	// Ownership goes to the (former) developer; the old owner is an admin
	// and the transfer buttons are gone.
	f.click(`[data-member="` + dev + `"] button[data-k=transfer]`)
	f.waitJS("owner is an admin now", `document.querySelector('#main').textContent.includes("You are an admin") &&
		document.querySelector('[data-member="`+dev+`"] [data-role=owner]') && !document.querySelector('[data-k=transfer]') && !!document.querySelector('#invite-form')`)
	t.Logf("axe violations by impact: owner %v, developer %v, viewer %v (serious and critical fail the test)", f.axe, d.axe, v.axe)
}

// invite creates an invitation on the members page and returns the link
// shown once.
func (f *flow) invite(email, role string) string {
	f.t.Helper()
	f.do("email and role", chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.querySelector('#invite-form');
		f.elements.email.value = `+jsString(email)+`;
		f.elements.role.value = `+jsString(role)+`;
	})()`))
	f.submit("#invite-form")
	f.waitJS("invitation for "+email, `document.querySelector('#invite-form .result').textContent.includes(`+jsString(email)+`) &&
		document.querySelector('#invitation-once').textContent.includes("Shown only once")`)
	link := eval[string](f, `document.querySelector('#invite-link').textContent`)
	if !strings.HasPrefix(link, f.url+"/#/accept?token=") {
		f.t.Fatalf("got invitation link %q, want %s/#/accept?token=…", link, f.url)
	}
	return link
}

func (f *flow) eval(expr string) string { f.t.Helper(); return eval[string](f, expr) }

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// postStatus is the status of a JSON POST without credentials.
func postStatus(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
