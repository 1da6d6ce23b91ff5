package mcp_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// A listKind is one of the four paginated lists (2025-11-25
// server/utilities/pagination): its method, the result member holding the
// entries, the entries' key, and how to add and remove an entry by key.
type listKind struct {
	method, member, key string
	add                 func(s *mcp.Server, key string)
	remove              func(s *mcp.Server, key string)
	keyOf               func(i int) string
}

var listKinds = []listKind{
	{"tools/list", "tools", "name",
		func(s *mcp.Server, k string) {
			s.AddTool(&mcp.Tool{Name: k, InputSchema: objectSchema}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{}, nil
			})
		},
		func(s *mcp.Server, k string) { s.RemoveTools(k) },
		func(i int) string { return fmt.Sprintf("t%02d", i) }},
	{"prompts/list", "prompts", "name",
		func(s *mcp.Server, k string) {
			s.AddPrompt(&mcp.Prompt{Name: k}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{}, nil
			})
		},
		func(s *mcp.Server, k string) { s.RemovePrompts(k) },
		func(i int) string { return fmt.Sprintf("p%02d", i) }},
	{"resources/list", "resources", "uri",
		func(s *mcp.Server, k string) {
			s.AddResource(&mcp.Resource{URI: k, Name: k}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{}, nil
			})
		},
		func(s *mcp.Server, k string) { s.RemoveResources(k) },
		func(i int) string { return fmt.Sprintf("test://r/%02d", i) }},
	{"resources/templates/list", "resourceTemplates", "uriTemplate",
		func(s *mcp.Server, k string) {
			s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: k, Name: k}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{}, nil
			})
		},
		func(s *mcp.Server, k string) { s.RemoveResources(k) },
		func(i int) string { return fmt.Sprintf("test://t/%02d/{id}", i) }},
}

// pagedServer serves n entries of every list, added in reverse order (so
// that the order of a page is the server's, not the registration's).
func pagedServer(t *testing.T, pageSize, n int) *env {
	return start(t, &mcp.ServerOptions{PageSize: pageSize}, func(s *mcp.Server) {
		for _, k := range listKinds {
			for i := n - 1; i >= 0; i-- {
				k.add(s, k.keyOf(i))
			}
		}
	})
}

// A page is one answer of a list: its keys and nextCursor, or the error
// code.
type page struct {
	keys []string
	next string
	code int64
	ttl  bool // 2026-07-28 cache hints present
}

// lister asks for pages of a list in one era.
type lister func(method string, params map[string]any) page

func legacyLister(e *env) lister {
	s := e.initialize(mcp.Version20251125, "{}")
	return func(method string, params map[string]any) page {
		e.t.Helper()
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": e.id(), "method": method, "params": params})
		return parsePage(e.t, method, s.post(string(body)))
	}
}

func modernLister(e *env) lister {
	return func(method string, params map[string]any) page {
		e.t.Helper()
		return parsePage(e.t, method, e.modern(method, params, nil, nil))
	}
}

func parsePage(t *testing.T, method string, r *reply) page {
	t.Helper()
	m := r.final(t)
	if m.Error != nil {
		return page{code: m.Error.Code}
	}
	k := listKinds[slices.IndexFunc(listKinds, func(k listKind) bool { return k.method == method })]
	var res map[string]json.RawMessage
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(res[k.member], &entries); err != nil || entries == nil {
		t.Fatalf("%s: %s: no %s array", method, m.Result, k.member)
	}
	p := page{keys: []string{}, ttl: res["ttlMs"] != nil}
	for _, e := range entries {
		p.keys = append(p.keys, e[k.key].(string))
	}
	if c, ok := res["nextCursor"]; ok {
		if err := json.Unmarshal(c, &p.next); err != nil || p.next == "" {
			t.Fatalf("%s: nextCursor %s", method, c)
		}
	}
	return p
}

// eras returns a lister of each era for e.
func eras(e *env) map[string]lister {
	return map[string]lister{"2025-11-25": legacyLister(e), "2026-07-28": modernLister(e)}
}

func cursorParams(c string) map[string]any {
	if c == "" {
		return nil
	}
	return map[string]any{"cursor": c}
}

// TestPagination walks every list page by page in both eras: the pages
// are ordered by key, hold PageSize entries, end with the last one (no
// nextCursor), and together list every entry once; 2026-07-28 pages keep
// their cache hints.
func TestPagination(t *testing.T) {
	const n, size = 10, 3
	e := pagedServer(t, size, n)
	for era, list := range eras(e) {
		for _, k := range listKinds {
			var got []string
			cursor, pages := "", 0
			for {
				p := list(k.method, cursorParams(cursor))
				if p.code != 0 {
					t.Fatalf("%s %s page %d: error %d", era, k.method, pages, p.code)
				}
				if p.ttl != (era == mcp.Version20260728) {
					t.Errorf("%s %s page %d: cache hints %v", era, k.method, pages, p.ttl)
				}
				pages++
				got = append(got, p.keys...)
				if p.next == "" {
					break
				}
				if len(p.keys) != size {
					t.Errorf("%s %s page %d: %d entries, want %d", era, k.method, pages, len(p.keys), size)
				}
				cursor = p.next
			}
			var want []string
			for i := range n {
				want = append(want, k.keyOf(i))
			}
			if !slices.Equal(got, want) || pages != (n+size-1)/size {
				t.Errorf("%s %s: %d pages %q, want %d pages %q", era, k.method, pages, got, (n+size-1)/size, want)
			}
		}
	}
}

// TestPaginationInvalidCursor checks that a cursor that does not decode,
// or is another list's, is -32602 in both eras (2025-11-25
// server/utilities/pagination §Error Handling), and that an empty cursor
// is the first page.
func TestPaginationInvalidCursor(t *testing.T) {
	e := pagedServer(t, 2, 4)
	for era, list := range eras(e) {
		toolsCursor := list("tools/list", nil).next
		for _, k := range listKinds {
			for _, c := range []any{"!!", "bm9wZQ", base64.RawURLEncoding.EncodeToString([]byte("other\x00x")), 7, map[string]any{}} {
				if p := list(k.method, map[string]any{"cursor": c}); p.code != jsonrpc.CodeInvalidParams {
					t.Errorf("%s %s cursor %v: code %d, want %d", era, k.method, c, p.code, jsonrpc.CodeInvalidParams)
				}
			}
			if k.method != "tools/list" {
				if p := list(k.method, map[string]any{"cursor": toolsCursor}); p.code != jsonrpc.CodeInvalidParams {
					t.Errorf("%s %s with a tools/list cursor: code %d", era, k.method, p.code)
				}
			}
			first := list(k.method, nil)
			if p := list(k.method, map[string]any{"cursor": ""}); !slices.Equal(p.keys, first.keys) || p.next != first.next {
				t.Errorf("%s %s empty cursor: %v, want the first page %v", era, k.method, p, first)
			}
		}
	}
}

// TestPaginationChanges adds and removes entries between pages: no entry
// that stays is skipped or repeated, an entry added after the cursor is
// listed, one added before it or removed is not, also when the cursor's
// own entry is removed.
func TestPaginationChanges(t *testing.T) {
	for _, era := range []string{mcp.Version20251125, mcp.Version20260728} {
		for _, k := range listKinds {
			e := pagedServer(t, 3, 10)
			list := eras(e)[era]
			p := list(k.method, nil) // 00 01 02
			got := p.keys
			k.remove(e.srv, k.keyOf(1))  // listed already
			k.remove(e.srv, k.keyOf(2))  // the cursor's own
			k.remove(e.srv, k.keyOf(4))  // not listed yet
			k.add(e.srv, k.keyOf(0)+"a") // before the cursor
			k.add(e.srv, k.keyOf(5)+"a") // after it
			for p.next != "" {
				next := p.next
				p = list(k.method, cursorParams(next))
				if p.code != 0 {
					t.Fatalf("%s %s: error %d", era, k.method, p.code)
				}
				got = append(got, p.keys...)
				if len(got) == 6 { // change again, mid-walk
					k.remove(e.srv, k.keyOf(9))
					k.add(e.srv, k.keyOf(9)+"a")
				}
			}
			want := []string{k.keyOf(0), k.keyOf(1), k.keyOf(2), k.keyOf(3), k.keyOf(5), k.keyOf(5) + "a", k.keyOf(6), k.keyOf(7), k.keyOf(8), k.keyOf(9) + "a"}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: listed %q\nwant %q", era, k.method, got, want)
			}
			// A new walk sees the changes.
			if p := list(k.method, nil); !slices.Equal(p.keys, []string{k.keyOf(0), k.keyOf(0) + "a", k.keyOf(3)}) {
				t.Errorf("%s %s: first page after the changes %q", era, k.method, p.keys)
			}
		}
	}
}

// TestPaginationDefault checks that the default page size holds
// DefaultPageSize entries and today's catalogs in one page, and that a
// negative PageSize lists everything in one page.
func TestPaginationDefault(t *testing.T) {
	for _, name := range catalog.Names {
		c, err := catalog.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		opts := &mcp.ServerOptions{}
		c.Options(opts)
		e := start(t, opts, c.Register)
		for era, list := range eras(e) {
			for _, k := range listKinds {
				if p := list(k.method, nil); p.next != "" || (p.code != 0 && p.code != jsonrpc.CodeMethodNotFound) {
					t.Errorf("catalog %s, %s %s: code %d, nextCursor %q", name, era, k.method, p.code, p.next)
				}
			}
		}
	}
	for _, tc := range []struct{ size, pages int }{{0, 2}, {-1, 1}} {
		e := start(t, &mcp.ServerOptions{PageSize: tc.size}, func(s *mcp.Server) {
			for i := range mcp.DefaultPageSize + 1 {
				s.AddPrompt(&mcp.Prompt{Name: fmt.Sprintf("p%04d", i)}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
					return &mcp.GetPromptResult{}, nil
				})
			}
		})
		list := legacyLister(e)
		p := list("prompts/list", nil)
		n, pages := len(p.keys), 1
		for p.next != "" {
			p = list("prompts/list", cursorParams(p.next))
			n, pages = n+len(p.keys), pages+1
		}
		if n != mcp.DefaultPageSize+1 || pages != tc.pages {
			t.Errorf("PageSize %d: %d entries in %d pages, want %d in %d", tc.size, n, pages, mcp.DefaultPageSize+1, tc.pages)
		}
	}
}
