package mcp

import (
	"errors"
	"regexp"
	"strings"
)

// compileURITemplate returns a matcher for the URIs an RFC 6570 URI
// template expands to. Expressions match as their operator expands:
// {var} one path segment's worth (no '/', '?' or '#'), {+var} anything,
// {#var} an optional fragment, {/var} {.var} {;var} repeated prefixed
// segments, {?var} {&var} an optional query. Literal text matches itself.
func compileURITemplate(t string) (func(string) bool, error) {
	if t == "" {
		return nil, errors.New("empty URI template")
	}
	var b strings.Builder
	b.WriteString("^")
	for len(t) > 0 {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			if strings.IndexByte(t, '}') >= 0 {
				return nil, errors.New("unbalanced '}' in URI template")
			}
			b.WriteString(regexp.QuoteMeta(t))
			break
		}
		if strings.IndexByte(t[:i], '}') >= 0 {
			return nil, errors.New("unbalanced '}' in URI template")
		}
		b.WriteString(regexp.QuoteMeta(t[:i]))
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return nil, errors.New("unterminated expression in URI template")
		}
		expr := t[i+1 : i+j]
		t = t[i+j+1:]
		if expr == "" {
			return nil, errors.New("empty expression in URI template")
		}
		switch expr[0] {
		case '+':
			b.WriteString(`(.*)`)
		case '#':
			b.WriteString(`(?:#(.*))?`)
		case '/':
			b.WriteString(`((?:/[^/?#]*)*)`)
		case '.':
			b.WriteString(`((?:\.[^/?#.]*)*)`)
		case ';':
			b.WriteString(`((?:;[^/?#]*)*)`)
		case '?', '&':
			b.WriteString(`(?:[?&][^#]*)?`)
		default:
			if strings.ContainsAny(expr[:1], "=,!@|") {
				return nil, errors.New("reserved operator in URI template")
			}
			b.WriteString(`([^/?#]*)`)
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}
