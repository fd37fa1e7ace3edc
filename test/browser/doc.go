// Package browser drives the web console in a real headless Chromium
// (Debian's chromium, through chromedp) against a real wagate in sandbox
// mode, on SQLite, PostgreSQL and PostgreSQL with Redis (asynq).
//
// Without /usr/bin/chromium (or WAGATE_CHROMIUM) the tests skip, except
// under CI=true where they fail. UPDATE_SCREENSHOTS=1 rewrites the PNGs
// under docs/console from the SQLite run.
package browser
