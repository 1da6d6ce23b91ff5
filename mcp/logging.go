package mcp

import "github.com/mcpfiber/mcpfiber/jsonrpc"

// A LoggingLevel is an RFC 5424 severity as MCP names it (2025-11-25
// server/utilities/logging §Log Levels).
type LoggingLevel string

// The levels, least severe first.
const (
	LevelDebug     LoggingLevel = "debug"
	LevelInfo      LoggingLevel = "info"
	LevelNotice    LoggingLevel = "notice"
	LevelWarning   LoggingLevel = "warning"
	LevelError     LoggingLevel = "error"
	LevelCritical  LoggingLevel = "critical"
	LevelAlert     LoggingLevel = "alert"
	LevelEmergency LoggingLevel = "emergency"
)

// levels are the levels by severity; levels[0] is "" (none).
var levels = [...]LoggingLevel{"", LevelDebug, LevelInfo, LevelNotice, LevelWarning, LevelError, LevelCritical, LevelAlert, LevelEmergency}

// levelOf returns the level of a severity (see severity), or "" for none.
func levelOf(sev int32) LoggingLevel {
	if sev < 0 || int(sev) >= len(levels) {
		return ""
	}
	return levels[sev]
}

// severity returns 1 (debug) … 8 (emergency), or 0 for an unknown level.
func (l LoggingLevel) severity() int32 {
	switch l {
	case LevelDebug:
		return 1
	case LevelInfo:
		return 2
	case LevelNotice:
		return 3
	case LevelWarning:
		return 4
	case LevelError:
		return 5
	case LevelCritical:
		return 6
	case LevelAlert:
		return 7
	case LevelEmergency:
		return 8
	}
	return 0
}

// setLevel answers logging/setLevel (2025-11-25 server/utilities/logging
// §Setting Log Level).
func (s *Server) setLevel(c *Call) ([]byte, *jsonrpc.Error) {
	var p struct {
		Level LoggingLevel `json:"level"`
	}
	if jsonrpc.Unmarshal(c.Params, &p) != nil || p.Level.severity() == 0 {
		return nil, invalidParams("level must be one of debug, info, notice, warning, error, critical, alert, emergency")
	}
	if c.Session.logLevel.Swap(p.Level.severity()) != p.Level.severity() {
		c.Session.changed(true)
	}
	return emptyResult, nil
}
