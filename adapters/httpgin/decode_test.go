package httpgin

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Inner struct {
		Flag bool `json:"flag"`
	} `json:"inner"`
}

// decodeEngine decodes the body of POST / into a sample, with the body
// limit of the real engine.
func decodeEngine(limit int64, required bool) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.DiscardHandler)
	e := gin.New()
	e.Use(withRequestID(), limitBody(limit, limit, log))
	e.POST("/", func(c *gin.Context) {
		var s sample
		err := decode(c, &s, required)
		if err != nil {
			abortWithError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, s)
	})
	return e
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		code        string
		field       string
	}{
		{"valid", `{"name":"a","count":2,"inner":{"flag":true}}`, "application/json", 200, "", ""},
		{"charset parameter", `{"name":"a"}`, "application/json; charset=utf-8", 200, "", ""},
		{"trailing whitespace", "{\"name\":\"a\"}\n  ", "application/json", 200, "", ""},
		{"malformed", `{"name":`, "application/json", 400, "invalid_json", ""},
		{"not json", `name=a`, "application/json", 400, "invalid_json", ""},
		{"array body", `[1,2]`, "application/json", 400, "invalid_json", ""},
		{"trailing object", `{"name":"a"}{"name":"b"}`, "application/json", 400, "invalid_json", ""},
		{"trailing garbage", `{"name":"a"} x`, "application/json", 400, "invalid_json", ""},
		{"unknown field", `{"name":"a","admin":true}`, "application/json", 422, "validation_failed", "admin"},
		{"unknown nested field", `{"inner":{"flag":true,"x":1}}`, "application/json", 422, "validation_failed", "x"},
		{"wrong type", `{"count":"two"}`, "application/json", 422, "validation_failed", "count"},
		{"wrong nested type", `{"inner":{"flag":"yes"}}`, "application/json", 422, "validation_failed", "inner.flag"},
		{"wrong content type", `{"name":"a"}`, "text/plain", 415, "unsupported_media_type", ""},
		{"no content type", `{"name":"a"}`, "", 415, "unsupported_media_type", ""},
		{"form content type", `name=a`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"empty body", ``, "application/json", 400, "invalid_json", ""},
		{"field in another case", `{"Name":"a"}`, "application/json", 422, "validation_failed", "Name"},
		{"nested field in another case", `{"inner":{"FLAG":true}}`, "application/json", 422, "validation_failed", "inner.FLAG"},
		{"duplicate key", `{"name":"a","name":"b"}`, "application/json", 422, "validation_failed", "name"},
		{"duplicate by case", `{"name":"a","NAME":"b"}`, "application/json", 422, "validation_failed", "NAME"},
		{"duplicate nested key", `{"inner":{"flag":true,"flag":false}}`, "application/json", 422, "validation_failed", "inner.flag"},
		{"NUL escape", `{"name":"a\u0000b"}`, "application/json", 422, "validation_failed", "name"},
		{"invalid UTF-8", "{\"name\":\"a\xffb\"}", "application/json", 400, "invalid_json", ""},
		{"lone high surrogate", `{"name":"\ud800"}`, "application/json", 400, "invalid_json", ""},
		{"lone low surrogate", `{"name":"x\udc00"}`, "application/json", 400, "invalid_json", ""},
		{"surrogate pair", `{"name":"\ud83d\ude00"}`, "application/json", 200, "", ""},
		{"escaped backslash before u", `{"name":"\\ud800"}`, "application/json", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(decodeEngine(1024, true), req{method: "POST", path: "/", body: tt.body,
				header: map[string]string{"Content-Type": tt.contentType}})
			if tt.status == 200 {
				if w.Code != 200 {
					t.Fatalf("got %d %s, want 200", w.Code, w.Body)
				}
				return
			}
			p := wantProblem(t, w, tt.status, tt.code)
			if tt.field == "" {
				if len(p.Errors) != 0 {
					t.Fatalf("got errors %+v, want none", p.Errors)
				}
				return
			}
			if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Fatalf("got errors %+v, want one for field %q", p.Errors, tt.field)
			}
			if tt.name == "unknown field" && p.Errors[0].Message != "unknown field" {
				t.Fatalf("got message %q, want %q", p.Errors[0].Message, "unknown field")
			}
		})
	}
}

func TestDecodeOptionalBody(t *testing.T) {
	w := serve(decodeEngine(1024, false), req{method: "POST", path: "/"})
	if w.Code != 200 {
		t.Fatalf("got %d %s, want 200 for an absent optional body", w.Code, w.Body)
	}
	w = serve(decodeEngine(1024, false), req{method: "POST", path: "/", body: `{"nope":1}`})
	wantProblem(t, w, 422, "validation_failed")
}

func TestDecodeTooLarge(t *testing.T) {
	big := `{"name":"` + strings.Repeat("a", 2000) + `"}`
	t.Run("declared length", func(t *testing.T) {
		w := serve(decodeEngine(1024, true), req{method: "POST", path: "/", body: big})
		wantProblem(t, w, http.StatusRequestEntityTooLarge, "payload_too_large")
	})
	t.Run("chunked", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(big))
		r.ContentLength = -1 // as for a chunked upload: only the reader can tell
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		decodeEngine(1024, true).ServeHTTP(w, r)
		wantProblem(t, w, http.StatusRequestEntityTooLarge, "payload_too_large")
	})
}
