package mcp_test

import (
	"context"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
)

type promptArgs struct {
	Topic string  `json:"topic" jsonschema:"what to write about"`
	Tone  string  `json:"tone,omitempty"`
	Words *string `json:"words,omitzero" jsonschema:"how long"`
	Skip  int     `json:"-"`
}

// getPrompt calls prompts/get of name with the arguments args (JSON, ""
// for none) and returns the text of its first message, or the JSON-RPC
// error's code and message.
func getPrompt(tb testing.TB, conn mcp.Conn, name, args string) (text string, code int64, msg string) {
	tb.Helper()
	params := `{"name":"` + name + `"`
	if args != "" {
		params += `,"arguments":` + args
	}
	b, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: "prompts/get", ID: json.RawMessage(`1`), Params: json.RawMessage(params + "}"), Out: discard{}})
	if jerr != nil {
		return "", jerr.Code, jerr.Message
	}
	var res mcp.GetPromptResult
	if err := json.Unmarshal(b, &res); err != nil || len(res.Messages) == 0 {
		tb.Fatalf("prompts/get %s: %v (%s)", args, err, b)
	}
	return res.Messages[0].Content.Text, 0, ""
}

// TestTypedPrompt checks the inferred arguments list, a list set by the
// caller, and how arguments decode: exact names, unknown names refused,
// required ones checked, absent ones empty.
func TestTypedPrompt(t *testing.T) {
	render := func(_ context.Context, _ *mcp.GetPromptRequest, in promptArgs) (*mcp.GetPromptResult, error) {
		words := "<nil>"
		if in.Words != nil {
			words = *in.Words
		}
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: mcp.TextContent(in.Topic + "|" + in.Tone + "|" + words)}}}, nil
	}
	conn := toolSession(t, func(s *mcp.Server) {
		mcp.AddPrompt(s, &mcp.Prompt{Name: "essay"}, render)
		mcp.AddPrompt(s, &mcp.Prompt{Name: "ptr"}, func(ctx context.Context, req *mcp.GetPromptRequest, in *promptArgs) (*mcp.GetPromptResult, error) {
			return render(ctx, req, *in)
		})
		mcp.AddPrompt(s, &mcp.Prompt{Name: "listed", Arguments: []*mcp.PromptArgument{{Name: "topic", Title: "Topic"}, {Name: "extra"}}}, render)
	})

	b, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: "prompts/list", ID: json.RawMessage(`1`), Out: discard{}})
	if jerr != nil {
		t.Fatal(jerr)
	}
	var list mcp.ListPromptsResult
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	inferred := `[{"name":"topic","description":"what to write about","required":true},{"name":"tone"},{"name":"words","description":"how long"}]`
	want := map[string]string{"essay": inferred, "ptr": inferred, "listed": `[{"name":"topic","title":"Topic"},{"name":"extra"}]`}
	for _, p := range list.Prompts {
		got, _ := json.Marshal(p.Arguments)
		if string(got) != want[p.Name] {
			t.Errorf("%s arguments = %s, want %s", p.Name, got, want[p.Name])
		}
	}

	for _, tc := range []struct {
		prompt, args string
		text         string
		code         int64
		msg          string
	}{
		{"essay", `{"topic":"go"}`, "go||<nil>", 0, ""},
		{"essay", `{"topic":"go","tone":"dry","words":"100"}`, "go|dry|100", 0, ""},
		{"essay", `{"topic":"go","words":""}`, "go||", 0, ""},
		{"essay", ``, "", -32602, `prompt "essay" needs the argument "topic"`},
		{"essay", `{"tone":"dry"}`, "", -32602, `prompt "essay" needs the argument "topic"`},
		{"essay", `{"topic":"go","Tone":"dry"}`, "", -32602, `prompt "essay" has no argument "Tone"`},
		{"essay", `{"topic":"go","Skip":"1"}`, "", -32602, `prompt "essay" has no argument "Skip"`},
		{"essay", `{"topic":7}`, "", -32602, `arguments (if any) an object of strings`},
		{"ptr", `{"topic":"p","tone":"t"}`, "p|t|<nil>", 0, ""},
		// The caller's list: topic is not required, extra is accepted
		// (and has no field).
		{"listed", ``, "||<nil>", 0, ""},
		{"listed", `{"extra":"x","words":"5"}`, "||5", 0, ""},
		{"listed", `{"other":"x"}`, "", -32602, `prompt "listed" has no argument "other"`},
	} {
		text, code, msg := getPrompt(t, conn, tc.prompt, tc.args)
		if text != tc.text || code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("prompts/get %s %s = %q, %d %q; want %q, %d %q", tc.prompt, tc.args, text, code, msg, tc.text, tc.code, tc.msg)
		}
	}
}

// TestAddPromptPanics checks that argument types that are not structs of
// strings are refused when the prompt is added.
func TestAddPromptPanics(t *testing.T) {
	nop := func(context.Context, *mcp.GetPromptRequest, map[string]string) (*mcp.GetPromptResult, error) {
		return nil, nil
	}
	type withInt struct {
		N int `json:"n"`
	}
	for _, tc := range []struct {
		name string
		add  func(*mcp.Server)
		want string
	}{
		{"map", func(s *mcp.Server) { mcp.AddPrompt(s, &mcp.Prompt{Name: "x"}, nop) }, `mcp: prompt "x": the arguments type map[string]string is not a struct`},
		{"int-field", func(s *mcp.Server) {
			mcp.AddPrompt(s, &mcp.Prompt{Name: "x"}, func(context.Context, *mcp.GetPromptRequest, withInt) (*mcp.GetPromptResult, error) { return nil, nil })
		}, `mcp: prompt "x": argument "n" of mcp_test.withInt is not a string`},
		{"no-name", func(s *mcp.Server) { mcp.AddPrompt(s, &mcp.Prompt{}, nop) }, `mcp: AddPrompt needs a prompt name and a handler`},
	} {
		s := mcp.NewServer(mcp.Implementation{Name: "m", Version: "1"}, &mcp.ServerOptions{Logger: quiet})
		got := func() (msg string) {
			defer func() { msg, _ = recover().(string) }()
			tc.add(s)
			return ""
		}()
		s.Close()
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: panic %q, want prefix %q", tc.name, got, tc.want)
		}
	}
}
