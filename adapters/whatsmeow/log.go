package whatsmeow

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// slogLogger bridges whatsmeow's printf-style logger to slog. whatsmeow is
// chatty at debug level (every frame), so the check for the level comes
// before formatting.
type slogLogger struct {
	log *slog.Logger
}

var _ waLog.Logger = slogLogger{}

func newLogger(l *slog.Logger) slogLogger { return slogLogger{log: l} }

func (l slogLogger) logf(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, fmt.Sprintf(msg, args...))
}

func (l slogLogger) Errorf(msg string, args ...any) { l.logf(slog.LevelError, msg, args) }
func (l slogLogger) Warnf(msg string, args ...any)  { l.logf(slog.LevelWarn, msg, args) }
func (l slogLogger) Infof(msg string, args ...any)  { l.logf(slog.LevelInfo, msg, args) }
func (l slogLogger) Debugf(msg string, args ...any) { l.logf(slog.LevelDebug, msg, args) }

// Sub names the whatsmeow module ("Socket", "Recv/…") in an attribute.
func (l slogLogger) Sub(module string) waLog.Logger {
	return slogLogger{log: l.log.With("wa_module", module)}
}
