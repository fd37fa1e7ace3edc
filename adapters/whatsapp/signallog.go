package whatsapp

import (
	"log/slog"
	"sync"

	signallog "go.mau.fi/libsignal/logger"
)

// libsignal keeps a process-global logger that it creates lazily on first
// use, which is a data race when several clients start at once. Setting it
// once, before any client exists, avoids that and routes it to slog.
var signalLogOnce sync.Once

func setupSignalLogging(log *slog.Logger) {
	signalLogOnce.Do(func() {
		var l signallog.Loggable = newSignalLogger(log)
		signallog.Setup(&l)
	})
}

// signalLogger bridges libsignal's logger. Its debug output prints
// message keys, MACs and session state, so nothing below info passes.
type signalLogger struct{ l slogLogger }

func newSignalLogger(log *slog.Logger) signalLogger {
	return signalLogger{slogLogger{log: log.With("component", "libsignal"), floor: slog.LevelInfo}}
}

func (s signalLogger) log(level slog.Level, caller, msg string) {
	if s.l.enabled(level) {
		s.l.write(level, msg, "caller", caller)
	}
}

func (s signalLogger) Debug(caller, msg string)   { s.log(slog.LevelDebug, caller, msg) }
func (s signalLogger) Info(caller, msg string)    { s.log(slog.LevelInfo, caller, msg) }
func (s signalLogger) Warning(caller, msg string) { s.log(slog.LevelWarn, caller, msg) }
func (s signalLogger) Error(caller, msg string)   { s.log(slog.LevelError, caller, msg) }
func (s signalLogger) Configure(string)           {}
