package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/wagate/wagate/core/webhooks"
)

func TestClassifyStatus(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name       string
		status     int
		retryAfter string
		kind       webhooks.OutcomeKind
		after      time.Duration
	}{
		{"200", 200, "", webhooks.Delivered, 0},
		{"201", 201, "", webhooks.Delivered, 0},
		{"204", 204, "", webhooks.Delivered, 0},
		{"299", 299, "", webhooks.Delivered, 0},
		{"101 is not success", 101, "", webhooks.Retry, 0},
		{"300", 300, "", webhooks.Retry, 0},
		{"301 redirect fails", 301, "", webhooks.Retry, 0},
		{"302 redirect fails", 302, "", webhooks.Retry, 0},
		{"307 with Retry-After still just fails", 307, "60", webhooks.Retry, 0},
		{"304", 304, "", webhooks.Retry, 0},
		{"400", 400, "", webhooks.Retry, 0},
		{"401", 401, "", webhooks.Retry, 0},
		{"404", 404, "", webhooks.Retry, 0},
		{"410 disables", 410, "", webhooks.Disable, 0},
		{"410 ignores Retry-After", 410, "60", webhooks.Disable, 0},
		{"413", 413, "", webhooks.Retry, 0},
		{"500", 500, "", webhooks.Retry, 0},
		{"500 ignores Retry-After", 500, "60", webhooks.Retry, 0},
		{"502", 502, "", webhooks.Retry, 0},
		{"504", 504, "", webhooks.Retry, 0},
		{"429 without Retry-After", 429, "", webhooks.Retry, 0},
		{"429 Retry-After seconds", 429, "120", webhooks.Retry, 2 * time.Minute},
		{"429 Retry-After 0", 429, "0", webhooks.Retry, 0},
		{"429 Retry-After with spaces", 429, " 30 ", webhooks.Retry, 30 * time.Second},
		{"429 Retry-After capped at 1 h", 429, "7200", webhooks.Retry, time.Hour},
		{"429 Retry-After huge number capped", 429, "99999999999999999999", webhooks.Retry, time.Hour},
		{"429 Retry-After exactly 1 h", 429, "3600", webhooks.Retry, time.Hour},
		{"503 Retry-After seconds", 503, "5", webhooks.Retry, 5 * time.Second},
		{"503 Retry-After HTTP-date", 503, date(90 * time.Second), webhooks.Retry, 90 * time.Second},
		{"503 Retry-After RFC 850 date", 503, now.Add(time.Minute).Format(time.RFC850), webhooks.Retry, time.Minute},
		{"503 Retry-After date in the past", 503, date(-time.Hour), webhooks.Retry, 0},
		{"503 Retry-After date far ahead capped", 503, date(48 * time.Hour), webhooks.Retry, time.Hour},
		{"503 Retry-After negative", 503, "-5", webhooks.Retry, 0},
		{"503 Retry-After fraction", 503, "1.5", webhooks.Retry, 0},
		{"503 Retry-After garbage", 503, "soon", webhooks.Retry, 0},
		{"no status, no error", 0, "", webhooks.Retry, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := webhooks.Classify(tt.status, nil, tt.retryAfter, now)
			if got.Kind != tt.kind || got.After != tt.after {
				t.Errorf("got %v after %v, want %v after %v", got.Kind, got.After, tt.kind, tt.after)
			}
			if (got.Kind == webhooks.Delivered) != (got.Reason == "") {
				t.Errorf("got reason %q for %v, want one exactly when not delivered", got.Reason, got.Kind)
			}
		})
	}
}

// timeoutErr is a net.Error that timed out, as a dial or read deadline gives.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyError(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	post := func(err error) error { return &url.Error{Op: "Post", URL: "https://example.com/hook", Err: err} }
	tests := []struct {
		name   string
		err    error
		kind   webhooks.OutcomeKind
		reason string // "": any non-empty reason
	}{
		{"context deadline (the 15 s timeout)", post(context.DeadlineExceeded), webhooks.Retry, "timeout"},
		{"net timeout", post(&net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}), webhooks.Retry, "timeout"},
		{"os deadline", post(os.ErrDeadlineExceeded), webhooks.Retry, "timeout"},
		{"connection refused", post(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), webhooks.Retry, ""},
		{"DNS failure", post(&net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}), webhooks.Retry, ""},
		{"refused by the SSRF guard", post(errors.New("dial tcp 10.0.0.1:443: prohibited IP address")), webhooks.Retry, ""},
		{"cancelled on our side", post(context.Canceled), webhooks.Abandoned, "cancelled"},
		{"cancelled with a status", fmt.Errorf("read body: %w", context.Canceled), webhooks.Abandoned, "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := webhooks.Classify(200, tt.err, "60", now) // the error decides, not the status
			if got.Kind != tt.kind {
				t.Errorf("got %v, want %v", got.Kind, tt.kind)
			}
			if got.After != 0 {
				t.Errorf("got after %v, want 0", got.After)
			}
			switch {
			case got.Reason == "":
				t.Errorf("got no reason, want one for the delivery log")
			case tt.reason != "" && got.Reason != tt.reason:
				t.Errorf("got reason %q, want %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestOutcomeKindString(t *testing.T) {
	tests := []struct {
		k    webhooks.OutcomeKind
		want string
	}{
		{webhooks.Delivered, "delivered"},
		{webhooks.Retry, "retry"},
		{webhooks.Disable, "disable"},
		{webhooks.Abandoned, "abandoned"},
		{0, "OutcomeKind(0)"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestAutoDisable(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name                      string
		lastSuccess, firstFailure time.Time
		want                      bool
	}{
		{"not failing", ago(time.Hour), time.Time{}, false},
		{"never used", time.Time{}, time.Time{}, false},
		{"failing 4 days", ago(10 * day), ago(4 * day), false},
		{"failing just under 5 days", ago(10 * day), ago(5*day - time.Second), false},
		{"failing exactly 5 days", ago(10 * day), ago(5 * day), true},
		{"failing 6 days", ago(10 * day), ago(6 * day), true},
		{"never succeeded, failing 6 days", time.Time{}, ago(6 * day), true},
		{"never succeeded, failing 1 day", time.Time{}, ago(day), false},
		{"success after the failures began", ago(time.Hour), ago(6 * day), false},
		{"success at the same instant as the first failure", ago(6 * day), ago(6 * day), true},
		{"quiet for a month, failing since an hour", ago(30 * day), ago(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhooks.AutoDisable(tt.lastSuccess, tt.firstFailure, now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
