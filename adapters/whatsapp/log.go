package whatsapp

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// slogLogger bridges whatsmeow's printf-style logger to slog. whatsmeow is
// chatty at debug level (every frame), so the check for the level comes
// before formatting. Every message is masked (redact) and the modules that
// print keys or whole stanzas are held at info whatever the handler's
// level: SPEC §11, logs never contain keys or numbers.
type slogLogger struct {
	log *slog.Logger
	// floor is the lowest level this module may log at.
	floor slog.Level
}

var _ waLog.Logger = slogLogger{}

func newLogger(l *slog.Logger) slogLogger { return slogLogger{log: l, floor: slog.LevelDebug} }

// secretModules are whatsmeow's sub-loggers whose debug output is key
// material or raw stanzas: Recv and Send trace every node in and out,
// AppState its keys and patches.
var secretModules = map[string]bool{"Recv": true, "Send": true, "AppState": true}

func (l slogLogger) enabled(level slog.Level) bool {
	return level >= l.floor && l.log.Enabled(context.Background(), level)
}

// write logs a formatted message; stanza dumps below info are dropped.
func (l slogLogger) write(level slog.Level, msg string, attrs ...any) {
	if level < slog.LevelInfo && hasStanza(msg) {
		return
	}
	l.log.Log(context.Background(), level, redact(msg), attrs...)
}

func (l slogLogger) logf(level slog.Level, msg string, args []any) {
	if l.enabled(level) {
		l.write(level, fmt.Sprintf(msg, args...))
	}
}

func (l slogLogger) Errorf(msg string, args ...any) { l.logf(slog.LevelError, msg, args) }
func (l slogLogger) Warnf(msg string, args ...any)  { l.logf(slog.LevelWarn, msg, args) }
func (l slogLogger) Infof(msg string, args ...any)  { l.logf(slog.LevelInfo, msg, args) }
func (l slogLogger) Debugf(msg string, args ...any) { l.logf(slog.LevelDebug, msg, args) }

// Sub names the whatsmeow module ("Socket", "Recv/…") in an attribute.
func (l slogLogger) Sub(module string) waLog.Logger {
	sub := slogLogger{log: l.log.With("wa_module", module), floor: l.floor}
	if secretModules[module] {
		sub.floor = max(sub.floor, slog.LevelInfo)
	}
	return sub
}
