package browser

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wagate/wagate/test/testserver"
)

// TestConsolePairCode links by phone number instead of a QR code: a bad
// number gets its field error next to the field, a good one a code.
func TestConsolePairCode(t *testing.T) {
	eachBackend(t, []backend{sqlite, postgres}, nil, func(t *testing.T, srv *testserver.Server, chromium string) {
		f := &flow{t: t, ctx: browser(t, chromium, 1000, 760), url: srv.URL}
		f.do("open", chromedp.Navigate(f.url+"/#/register"), chromedp.WaitVisible(chromedp.CSS(`#register-form`)))
		f.fill("#register-form", map[string]string{"name": "Di", "email": "di@example.com", "password": "correct horse battery"})
		f.submit("#register-form")
		f.fill("#create-instance", map[string]string{"name": "paired"})
		f.submit("#create-instance")
		f.click("#connect")
		f.waitJS("QR code", `(document.querySelector('#qr-image')||{}).src?.startsWith("data:image/png")`)

		f.fill("#pair-form", map[string]string{"phoneNumber": "12"})
		f.submit("#pair-form")
		f.waitJS("field error", `document.querySelector('#pair-form [data-field=phoneNumber] .err').textContent.length > 0 &&
				document.querySelector('#pair-form [name=phoneNumber]').getAttribute("aria-invalid") === "true"`)
		f.do("a real number", chromedp.SetValue(chromedp.CSS(`#pair-form [name=phoneNumber]`), "+15550007777"))
		f.submit("#pair-form")
		f.waitJS("pair code", `/Pair code: [A-Z0-9-]{8,9}/.test(document.querySelector('#pair-form .result').textContent)`)
	})
}
