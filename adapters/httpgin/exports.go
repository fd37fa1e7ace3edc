package httpgin

// The data export routes of SPEC §18. A download of an export that is not
// completed yet (or failed) is 409 export_not_ready; of an expired one,
// 410 export_expired until the purge deletes it, 404 after.

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/ports"
)

// ExportDTO is an export as clients see it.
type ExportDTO struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	SizeBytes   int64      `json:"sizeBytes"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt"`
	ExpiresAt   time.Time  `json:"expiresAt"`
}

func exportDTO(e ports.Export) ExportDTO {
	d := ExportDTO{
		ID: string(e.ID), Status: string(e.Status), SizeBytes: e.SizeBytes,
		CreatedAt: e.CreatedAt.UTC(), ExpiresAt: e.ExpiresAt.UTC(),
	}
	if e.CompletedAt != nil {
		t := e.CompletedAt.UTC()
		d.CompletedAt = &t
	}
	return d
}

// exportsOn answers 503 when the module is not wired.
func (a *api) exportsOn(c *gin.Context) bool {
	if a.svc.Exports == nil {
		a.fail(c, ports.Errorf(ports.EUnavailable, "exports are not available"))
		return false
	}
	return true
}

// exportID returns the route's export id; ok is false (and the answer
// is 404) for one no export can have, which keeps bytes PostgreSQL
// refuses out of the query.
func (a *api) exportID(c *gin.Context) (ports.ExportID, bool) {
	id := c.Param("id")
	if id == "" || len(id) > 64 || !printable(id) {
		a.fail(c, ports.Errorf(ports.ENotFound, "export not found"))
		return "", false
	}
	return ports.ExportID(id), true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func (a *api) createExport(c *gin.Context) {
	if !a.exportsOn(c) {
		return
	}
	// No options yet: an empty body or {} (unknown fields are 422).
	var req struct{}
	if err := decodeOptionalJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	e, err := a.svc.Exports.Request(ctx(c), principal(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/exports/"+string(e.ID))
	c.JSON(http.StatusAccepted, exportDTO(e))
}

func (a *api) listExports(c *gin.Context) {
	if !a.exportsOn(c) {
		return
	}
	pr, err := pageRequest(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.svc.Exports.List(ctx(c), principal(c), pr)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(page, exportDTO))
}

func (a *api) getExport(c *gin.Context) {
	if !a.exportsOn(c) {
		return
	}
	id, ok := a.exportID(c)
	if !ok {
		return
	}
	e, err := a.svc.Exports.Get(ctx(c), principal(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, exportDTO(e))
}

func (a *api) downloadExport(c *gin.Context) {
	if !a.exportsOn(c) {
		return
	}
	id, ok := a.exportID(c)
	if !ok {
		return
	}
	e, f, err := a.svc.Exports.Download(ctx(c), principal(c), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	defer f.Close()
	c.Header("Content-Type", "application/zip")
	c.Header("Content-Disposition", contentDisposition("wagate-export-"+string(e.ID)+".zip", "", ""))
	c.Header("Cache-Control", "private, no-store")
	// ServeContent streams from the file (and answers Range requests,
	// so that a broken download can resume).
	var modified time.Time
	if e.CompletedAt != nil {
		modified = *e.CompletedAt
	}
	http.ServeContent(&downloadWriter{ResponseWriter: c.Writer, rc: http.NewResponseController(c.Writer)}, c.Request, "", modified, f)
}

// downloadIdle bounds how long one write of a download may take. The
// server's WriteTimeout (60 s) bounds a whole response, which would cut a
// large export on a slow link; a download instead gets this much time per
// write, so that it lasts as long as the client keeps reading.
const downloadIdle = 60 * time.Second

// downloadWriter pushes the connection's write deadline forward before
// each write.
type downloadWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w *downloadWriter) Write(p []byte) (int, error) {
	// Not every writer supports deadlines (a test recorder): the
	// server's own timeout stays then.
	_ = w.rc.SetWriteDeadline(time.Now().Add(downloadIdle))
	return w.ResponseWriter.Write(p)
}
