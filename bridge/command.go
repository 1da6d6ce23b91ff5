package bridge

import (
	"errors"
	"strings"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// ParseCommand splits the one-string form of a command (an environment
// variable, a flag) into the program and its arguments. Two forms:
//
//   - a JSON array of strings: ["npx", "-y", "@modelcontextprotocol/server-everything"];
//   - words separated by spaces, as a POSIX shell splits them without
//     expanding anything: 'single quotes' keep everything, "double quotes"
//     keep all but \" and \\, and a backslash outside quotes escapes the
//     next character: npx -y "@scope/my server".
//
// It fails on an empty command, an unterminated quote, a trailing
// backslash, or a JSON array that is not of strings.
func ParseCommand(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var args []string
		if err := jsonrpc.Unmarshal([]byte(s), &args); err != nil {
			return nil, errors.New("bridge: a command starting with [ must be a JSON array of strings")
		}
		if len(args) == 0 || args[0] == "" {
			return nil, errors.New("bridge: empty command")
		}
		return args, nil
	}
	var (
		args    []string
		word    strings.Builder
		inWord  bool
		quote   byte // 0, '\'' or '"'
		escaped bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			word.WriteByte(c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				word.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				word.WriteByte(s[i])
			default:
				word.WriteByte(c)
			}
		case c == '\\':
			escaped, inWord = true, true
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, errors.New("bridge: unterminated quote in command")
	case escaped:
		return nil, errors.New("bridge: command ends with a backslash")
	}
	if inWord {
		args = append(args, word.String())
	}
	if len(args) == 0 || args[0] == "" {
		return nil, errors.New("bridge: empty command")
	}
	return args, nil
}
