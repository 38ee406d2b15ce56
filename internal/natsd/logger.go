package natsd

import (
	"context"
	"fmt"
	"log/slog"
)

// LevelTrace is the slog level of nats-server trace lines (protocol traces),
// below slog.LevelDebug. The server traces only when the logger is enabled at
// this level, because tracing is expensive.
const LevelTrace = slog.LevelDebug - 4

// serverLogger adapts *slog.Logger to the server.Logger interface.
//
// The standalone server's Fatalf exits the process. Here Fatalf logs at ERROR
// and reports the message through fatal, so Run can stop the server in order
// and return an error.
type serverLogger struct {
	log   *slog.Logger
	fatal func(msg string)
}

// Noticef logs a notice statement at INFO.
func (l serverLogger) Noticef(format string, v ...any) { l.logf(slog.LevelInfo, format, v) }

// Warnf logs a warning statement at WARN.
func (l serverLogger) Warnf(format string, v ...any) { l.logf(slog.LevelWarn, format, v) }

// Errorf logs an error statement at ERROR.
func (l serverLogger) Errorf(format string, v ...any) { l.logf(slog.LevelError, format, v) }

// Debugf logs a debug statement at DEBUG.
func (l serverLogger) Debugf(format string, v ...any) { l.logf(slog.LevelDebug, format, v) }

// Tracef logs a trace statement at LevelTrace.
func (l serverLogger) Tracef(format string, v ...any) { l.logf(LevelTrace, format, v) }

// Fatalf logs at ERROR and asks Run to stop the server; it never exits.
func (l serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.LogAttrs(context.Background(), slog.LevelError, msg, slog.Bool("fatal", true))
	l.fatal(msg)
}

func (l serverLogger) logf(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, fmt.Sprintf(format, v...))
}
