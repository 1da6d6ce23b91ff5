package mcp

// Pagination (2025-11-25 server/utilities/pagination): the cursors and
// pages of the four lists. See [DefaultPageSize].

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// DefaultPageSize is the page size of tools/list, prompts/list,
// resources/list and resources/templates/list, and of a 2025-11-25
// session's tasks/list, when [ServerOptions.PageSize] is zero: large
// enough that a catalog of today fits in one page (2025-11-25
// server/utilities/pagination; the same at 2026-07-28, which has no
// tasks/list).
//
// A list is ordered by its key: the name of tools and prompts, the URI of
// resources, the URI template of resource templates, the creation time
// and then the ID of tasks. A page holds the
// first PageSize entries whose key sorts after the cursor's; its
// nextCursor is an opaque string that encodes the last key it returned,
// and is absent on the last page. Because the cursor is a position in the
// key order, not an index, entries added or removed between two pages do
// not make the client skip or repeat an entry that stays: an entry added
// with a key after the cursor's is listed on a later page, one added with
// a key before it is not (the client learns of it from
// notifications/*/list_changed and lists again), and a removed entry is
// no longer listed, also when it was the cursor's own. Cursors do not
// expire and survive a restart; a cursor that does not decode, or is
// another list's, is an invalid cursor: error -32602 "Invalid params:
// invalid cursor". An empty cursor asks for the first page.
const DefaultPageSize = 1000

// The kinds of list a cursor belongs to.
const (
	listTools     = "tools"
	listPrompts   = "prompts"
	listResources = "resources"
	listTemplates = "templates"
	listTasks     = "tasks" // tasks/list at 2025-11-25 (tasks.go)
)

// errInvalidCursor is the error for a cursor that does not decode
// (2025-11-25 server/utilities/pagination §Error Handling).
func errInvalidCursor() *jsonrpc.Error { return invalidParams("invalid cursor") }

// A cursor is the position of a page: after the key, or at the start of
// the list when !set.
type cursor struct {
	key string
	set bool
}

// listCursor returns the cursor of params for a list of the kind: the
// start of the list when params have no cursor or an empty one.
func listCursor(kind string, params json.RawMessage) (cursor, *jsonrpc.Error) {
	if len(params) == 0 {
		return cursor{}, nil
	}
	var p struct {
		Cursor *string `json:"cursor"`
	}
	if err := jsonrpc.Unmarshal(params, &p); err != nil {
		if !jsonObject(params) {
			return cursor{}, nil // not an object: no cursor (as before pagination)
		}
		return cursor{}, errInvalidCursor() // an object, so the cursor is not a string
	}
	if p.Cursor == nil || *p.Cursor == "" {
		return cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*p.Cursor)
	if err != nil {
		return cursor{}, errInvalidCursor()
	}
	k, key, ok := strings.Cut(string(b), "\x00")
	if !ok || k != kind {
		return cursor{}, errInvalidCursor()
	}
	return cursor{key: key, set: true}, nil
}

// jsonObject reports whether b is a JSON object (or null, which stands
// for absent params).
func jsonObject(b json.RawMessage) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// makeCursor returns the opaque cursor of the position after key.
func makeCursor(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + key))
}

// pageSize returns the entries a page holds; 0: all of them.
func (s *Server) pageSize() int {
	switch n := s.opts.PageSize; {
	case n == 0:
		return DefaultPageSize
	case n < 0:
		return 0
	default:
		return n
	}
}

// page sorts items by key and returns the page at the cursor at, and the
// cursor of the next page ("" on the last page).
func page[T any](s *Server, kind string, items []T, key func(T) string, at cursor) ([]T, string) {
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	if at.set {
		i, found := slices.BinarySearchFunc(items, at.key, func(t T, k string) int { return cmp.Compare(key(t), k) })
		if found {
			i++
		}
		items = items[i:]
	}
	if n := s.pageSize(); n > 0 && len(items) > n {
		items = items[:n:n]
		return items, makeCursor(kind, key(items[n-1]))
	}
	return items, ""
}
