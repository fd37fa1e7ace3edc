package whatsmeow

import (
	"log/slog"
	"sync"

	signallog "go.mau.fi/libsignal/logger"
)

// libsignal keeps a process-global logger that it creates lazily on first
// use, which is a data race when several clients start at once. Setting it
// once, before any client exists, avoids that and routes its chatter to
// slog at debug level.
var signalLogOnce sync.Once

func setupSignalLogging(log *slog.Logger) {
	signalLogOnce.Do(func() {
		var l signallog.Loggable = signalLogger{log.With("component", "libsignal")}
		signallog.Setup(&l)
	})
}

type signalLogger struct{ log *slog.Logger }

func (s signalLogger) Debug(caller, msg string)   { s.log.Debug(msg, "caller", caller) }
func (s signalLogger) Info(caller, msg string)    { s.log.Debug(msg, "caller", caller) }
func (s signalLogger) Warning(caller, msg string) { s.log.Warn(msg, "caller", caller) }
func (s signalLogger) Error(caller, msg string)   { s.log.Error(msg, "caller", caller) }
func (s signalLogger) Configure(string)           {}
