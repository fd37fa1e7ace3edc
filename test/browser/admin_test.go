package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/test/testserver"
)

// TestConsoleAdmin signs in as the bootstrap platform admin, finds the
// subscriptions, changes a tier and sees the queue monitor link; a normal
// user sees no admin page.
func TestConsoleAdmin(t *testing.T) {
	eachBackend(t, []backend{sqlite, postgres}, map[string]string{
		"WAGATE_BOOTSTRAP_ADMIN_EMAIL":    "root@example.com",
		"WAGATE_BOOTSTRAP_ADMIN_PASSWORD": "admin password 1",
	}, func(t *testing.T, srv *testserver.Server, chromium string) {
		f := &flow{t: t, ctx: browser(t, chromium, 1000, 760), url: srv.URL}

		// A normal user first: no Admin link.
		f.do("open", chromedp.Navigate(f.url+"/#/register"), chromedp.WaitVisible(chromedp.CSS(`#register-form`)))
		f.fill("#register-form", map[string]string{"name": "Cy", "email": "cy@example.com", "password": "correct horse battery"})
		f.submit("#register-form")
		f.waitJS("instances", `!!document.querySelector('#create-instance')`)
		if eval[bool](f, `!!document.querySelector('#nav a[href="#/admin"]')`) {
			t.Error("a normal user sees the Admin link")
		}
		f.click("#logout")
		f.waitJS("login page", `!!document.querySelector('#login-form')`)

		// Wrong password: the API's error is shown.
		f.fill("#login-form", map[string]string{"email": "root@example.com", "password": "wrong password"})
		f.submit("#login-form")
		f.waitJS("login error", `document.querySelector('#login-form .result.error')?.textContent.includes("401")`)
		f.do("right password", chromedp.SetValue(chromedp.CSS(`#login-form [name=password]`), "admin password 1"))
		f.submit("#login-form")
		f.waitJS("admin link", `!!document.querySelector('#nav a[href="#/admin"]')`)
		f.click(`#nav a[href="#/admin"]`)
		f.waitJS("subscriptions", `document.querySelectorAll('#sub-list tbody tr').length >= 2`)
		f.checkAxe("admin")

		// Move the normal user's subscription (the one with no
		// instances and basic tier) to pro.
		f.do("pick pro", chromedp.Evaluate[chromedp.Void](`(() => {
				const s = [...document.querySelectorAll('#sub-list select')].find(s => s.value === "basic");
				s.value = "pro";
				s.closest("td").querySelector("button").click();
			})()`))
		f.waitJS("tier saved", `document.querySelector('#toast').textContent.includes("Tier changed.")`)
		f.do("reload", chromedp.Reload())
		f.waitJS("tier kept", `[...document.querySelectorAll('#sub-list select')].some(s => s.value === "pro")`)
		if txt := f.text(); !strings.Contains(txt, "queue monitor") {
			t.Errorf("got no queue monitor link on the admin page: %q", txt)
		}
	})
}
