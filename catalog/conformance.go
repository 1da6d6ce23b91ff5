package catalog

import (
	"context"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// The conformance catalogue: the tools, resources, prompts and completion
// the official MCP conformance suite (@modelcontextprotocol/conformance
// 0.1.16 and 0.2.0-alpha.12, server scenarios) calls, with the names,
// schemas and payloads its checks expect. It mirrors the suite's
// reference everything-server.

// Payloads of the conformance suite's reference server.
const (
	// ConformanceImage is a 1×1 red PNG, base64.
	ConformanceImage = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	// ConformanceAudio is a minimal WAV file, base64.
	ConformanceAudio = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
)

func mustDecode(b64 string) []byte {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	conformanceImage = mustDecode(ConformanceImage)
	conformanceAudio = mustDecode(ConformanceAudio)
)

// emptySchema is the input schema of tools without arguments.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// ConformanceOptions sets the server options the conformance catalogue
// needs: the completion handler and the tasks extension. Its task tools
// escalate to tasks themselves (RunAsTask, or by asking for input), so the
// sync window only bounds handlers that do neither.
func ConformanceOptions(o *mcp.ServerOptions) {
	o.CompletionHandler = conformanceComplete
	o.Tasks = &mcp.TaskOptions{SyncWindow: time.Second}
}

// Conformance adds the conformance catalogue to s.
func Conformance(s *mcp.Server) {
	conformanceTools(s)
	conformanceStatelessTools(s)
	conformanceInputTools(s)
	conformanceTaskTools(s)
	conformanceTypedTools(s)
	conformanceResources(s)
	conformancePrompts(s)
}

// SumArgs are the arguments of the typed tool typed_sum.
type SumArgs struct {
	A int `json:"a" jsonschema:"the first addend"`
	B int `json:"b" jsonschema:"the second addend"`
}

// SumResult is the structured result of the typed tool typed_sum.
type SumResult struct {
	Sum int `json:"sum" jsonschema:"a + b"`
}

// conformanceTypedTools adds typed_sum, a tool registered with
// [mcp.AddTool] (not one of the suite's): its inputSchema and outputSchema
// are inferred from [SumArgs] and [SumResult], and its result carries
// structuredContent with a text copy. The interop tests list and call it
// with the official SDK clients; the suite ignores tools it does not know.
func conformanceTypedTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "typed_sum", Description: "Adds two integers (a typed tool: schemas inferred from Go types)"},
		func(_ context.Context, _ *mcp.CallToolRequest, in SumArgs) (*mcp.CallToolResult, SumResult, error) {
			return nil, SumResult{Sum: in.A + in.B}, nil
		})
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(s)}}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func conformanceTools(s *mcp.Server) {
	add := func(name, desc string, schema json.RawMessage, h mcp.ToolHandler) {
		if schema == nil {
			schema = emptySchema
		}
		s.AddTool(&mcp.Tool{Name: name, Description: desc, InputSchema: schema}, h)
	}
	add("test_simple_text", "Tests simple text content response", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return text("This is a simple text response for testing."), nil
		})
	add("test_image_content", "Tests image content response", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.ImageContent(conformanceImage, "image/png")}}, nil
		})
	add("test_audio_content", "Tests audio content response", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.AudioContent(conformanceAudio, "audio/wav")}}, nil
		})
	add("test_embedded_resource", "Tests embedded resource content response", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.EmbeddedResource(&mcp.ResourceContents{
				URI: "test://embedded-resource", MIMEType: "text/plain", Text: "This is an embedded resource content.",
			})}}, nil
		})
	add("test_multiple_content_types", "Tests response with multiple content types (text, image, resource)", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				mcp.TextContent("Multiple content types test:"),
				mcp.ImageContent(conformanceImage, "image/png"),
				mcp.EmbeddedResource(&mcp.ResourceContents{
					URI: "test://mixed-content-resource", MIMEType: "application/json", Text: `{"test":"data","value":123}`,
				}),
			}}, nil
		})
	add("test_tool_with_logging", "Tests tool that emits log messages during execution", nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			for i, msg := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
				if i > 0 {
					if err := sleep(ctx, 50*time.Millisecond); err != nil {
						return nil, err
					}
				}
				if err := req.Log(mcp.LevelInfo, "", msg); err != nil {
					return nil, err
				}
			}
			return text("Tool with logging executed successfully"), nil
		})
	add("test_tool_with_progress", "Tests tool that reports progress notifications", nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			for i, p := range []float64{0, 50, 100} {
				if i > 0 {
					if err := sleep(ctx, 50*time.Millisecond); err != nil {
						return nil, err
					}
				}
				if err := req.Progress(p, 100, fmt.Sprintf("Completed step %.0f of 100", p)); err != nil {
					return nil, err
				}
			}
			token := ""
			if req.Params.Meta != nil {
				token = string(req.Params.Meta.ProgressToken)
				var s string
				if jsonrpc.Unmarshal(req.Params.Meta.ProgressToken, &s) == nil {
					token = s
				}
			}
			return text(token), nil
		})
	add("test_error_handling", "Tests error response handling", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{
				Content: []mcp.Content{mcp.TextContent("This tool intentionally returns an error for testing")},
				IsError: true,
			}, nil
		})
	add("test_reconnection", "Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close the stream mid-call and send the result after client reconnects.", nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.CloseSSEStream() // the client resumes with Last-Event-ID
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return nil, err
			}
			return text("Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure."), nil
		})
	add("test_sampling", "Tests server-initiated sampling (LLM completion request)",
		json.RawMessage(`{"type":"object","properties":{"prompt":{"type":"string","description":"The prompt to send to the LLM"}},"required":["prompt"]}`),
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				Prompt string `json:"prompt"`
			}
			if err := jsonrpc.Unmarshal(req.Params.Arguments, &args); err != nil {
				return nil, fmt.Errorf("test_sampling: arguments: %v", err)
			}
			res, err := req.CreateMessage(ctx, &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: mcp.TextContent(args.Prompt)}},
				MaxTokens: 100,
			})
			if err != nil {
				return nil, fmt.Errorf("sampling failed: %w", err)
			}
			return text("LLM response: " + res.Content.Text), nil
		})
	add("test_elicitation", "Tests server-initiated elicitation (user input request)",
		json.RawMessage(`{"type":"object","properties":{"message":{"type":"string","description":"The message to show the user"}},"required":["message"]}`),
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				Message string `json:"message"`
			}
			if err := jsonrpc.Unmarshal(req.Params.Arguments, &args); err != nil {
				return nil, fmt.Errorf("test_elicitation: arguments: %v", err)
			}
			res, err := req.Elicit(ctx, &mcp.ElicitParams{
				Message:         args.Message,
				RequestedSchema: json.RawMessage(`{"type":"object","properties":{"username":{"type":"string","description":"User's response"},"email":{"type":"string","description":"User's email address"}},"required":["username","email"]}`),
			})
			if err != nil {
				return nil, fmt.Errorf("elicitation failed: %w", err)
			}
			content, _ := jsonrpc.Marshal(res.Content)
			return text(fmt.Sprintf("User response: action=%s, content=%s", res.Action, content)), nil
		})
	add("test_elicitation_sep1034_defaults", "Tests elicitation with default values per SEP-1034", nil,
		elicitWith("Please review and update the form fields with defaults",
			`{"type":"object","properties":{`+
				`"name":{"type":"string","description":"User name","default":"John Doe"},`+
				`"age":{"type":"integer","description":"User age","default":30},`+
				`"score":{"type":"number","description":"User score","default":95.5},`+
				`"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},`+
				`"verified":{"type":"boolean","description":"Verification status","default":true}},"required":[]}`))
	add("test_elicitation_sep1330_enums", "Tests elicitation with enum schema improvements per SEP-1330", nil,
		elicitWith("Please select options from the enum fields",
			`{"type":"object","properties":{`+
				`"untitledSingle":{"type":"string","description":"Select one option","enum":["option1","option2","option3"]},`+
				`"titledSingle":{"type":"string","description":"Select one option with titles","oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},`+
				`"legacyEnum":{"type":"string","description":"Select one option (legacy)","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},`+
				`"untitledMulti":{"type":"array","description":"Select multiple options","minItems":1,"maxItems":3,"items":{"type":"string","enum":["option1","option2","option3"]}},`+
				`"titledMulti":{"type":"array","description":"Select multiple options with titles","minItems":1,"maxItems":3,"items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}},"required":[]}`))
	add("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613, SEP-2106)",
		json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",`+
			`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},`+
			`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},`+
			`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],`+
			`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},"else":{"required":["email"]},`+
			`"additionalProperties":false}`),
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			args := req.Params.Arguments
			if len(args) == 0 {
				args = json.RawMessage("{}")
			}
			return text("JSON Schema 2020-12 tool called with: " + string(args)), nil
		})
}

// elicitWith returns a tool that elicits with message and schema and
// reports the answer.
func elicitWith(message, schema string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		res, err := req.Elicit(ctx, &mcp.ElicitParams{Message: message, RequestedSchema: json.RawMessage(schema)})
		if err != nil {
			return nil, fmt.Errorf("elicitation failed: %w", err)
		}
		content, _ := jsonrpc.Marshal(res.Content)
		return text(fmt.Sprintf("Elicitation completed: action=%s, content=%s", res.Action, content)), nil
	}
}

// conformanceStatelessTools are the tools of the suite's 2026-07-28
// scenarios (server-stateless, http-custom-header-server-validation).
func conformanceStatelessTools(s *mcp.Server) {
	add := func(name, desc string, schema json.RawMessage, h mcp.ToolHandler) {
		if schema == nil {
			schema = emptySchema
		}
		s.AddTool(&mcp.Tool{Name: name, Description: desc, InputSchema: schema}, h)
	}
	add("test_x_mcp_header", "Tests SEP-2243 Mcp-Param-* server-side validation",
		json.RawMessage(`{"type":"object","properties":{"region":{"type":"string","description":"mirrored into Mcp-Param-Region","x-mcp-header":"Region"},"level":{"type":"integer","description":"non-mirrored argument"}}}`),
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				Region string `json:"region"`
			}
			_ = jsonrpc.Unmarshal(req.Params.Arguments, &args)
			return text("region=" + args.Region), nil
		})
	add("test_missing_capability", "Requires the sampling client capability; used to verify MissingRequiredClientCapabilityError (-32021)", nil,
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if req.ClientCapabilities().CanSample() {
				return text("Client declared the sampling capability; tool executed."), nil
			}
			return nil, mcp.MissingCapabilityError("this tool needs the sampling capability", map[string]any{"sampling": map[string]any{}})
		})
	add("test_streaming_elicitation", "Streams progress while a call is in flight; the response stream carries only notifications and the response, never requests", nil,
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := req.Progress(1, 1, "working"); err != nil {
				return nil, err
			}
			return text("stream observed: result frames only, no top-level requests"), nil
		})
	add("test_logging_tool", "Logs a message; it is sent only when the request set a log level", nil,
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := req.Log(mcp.LevelInfo, "", "test_logging_tool executed"); err != nil {
				return nil, err
			}
			return text("Log attempted; sent only if the request carried a log level."), nil
		})
	add("test_trigger_tool_change", "Adds a tool, which sends notifications/tools/list_changed to the clients that listen", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.AddTool(&mcp.Tool{Name: "zz_transient_tool", Description: "Transient tool used to trigger tools/list_changed", InputSchema: emptySchema},
				func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
					return text("transient"), nil
				})
			return text("tools_list_changed published"), nil
		})
	add("test_trigger_prompt_change", "Adds a prompt, which sends notifications/prompts/list_changed to the clients that listen", nil,
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.AddPrompt(&mcp.Prompt{Name: "zz_transient_prompt", Description: "Transient prompt used to trigger prompts/list_changed"},
				func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
					return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: mcp.TextContent("transient")}}}, nil
				})
			return text("prompts_list_changed published"), nil
		})
}

var nameSchema = json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`)

var confirmSchema = json.RawMessage(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`)

// conformanceInputTools are the multi round-trip tools of the suite's
// input-required-result scenarios (2026-07-28 basic/patterns/mrtr). In
// 2025 sessions the server asks the client the same questions itself.
func conformanceInputTools(s *mcp.Server) {
	add := func(name, desc string, h mcp.ToolHandler) {
		s.AddTool(&mcp.Tool{Name: name, Description: desc, InputSchema: emptySchema}, h)
	}
	askName := mcp.ElicitInput(&mcp.ElicitParams{Message: "What is your name?", RequestedSchema: nameSchema})
	capital := mcp.SamplingInput(&mcp.CreateMessageParams{
		Messages:  []*mcp.SamplingMessage{{Role: "user", Content: mcp.TextContent("What is the capital of France?")}},
		MaxTokens: 100,
	})
	greeting := mcp.SamplingInput(&mcp.CreateMessageParams{
		Messages:  []*mcp.SamplingMessage{{Role: "user", Content: mcp.TextContent("Generate a greeting")}},
		MaxTokens: 50,
	})
	confirm := mcp.ElicitInput(&mcp.ElicitParams{Message: "Please confirm", RequestedSchema: confirmSchema})

	add("test_input_required_result_elicitation", "Asks for the caller's name with an elicitation input request",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if c, ok := req.Params.InputResponses.Accepted("user_name"); ok {
				if name, _ := c["name"].(string); name != "" {
					return text("Hello, " + name + "!"), nil
				}
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequests{"user_name": askName}}, nil
		})
	add("test_input_required_result_sampling", "Asks for an LLM completion with a sampling input request",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if r, ok := req.Params.InputResponses.CreateMessage("capital_question"); ok {
				return text("Sampling response: " + r.Content.Text), nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequests{"capital_question": capital}}, nil
		})
	add("test_input_required_result_list_roots", "Asks for the client's roots with a roots/list input request",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if r, ok := req.Params.InputResponses.ListRoots("client_roots"); ok {
				return text(fmt.Sprintf("Client exposed %d root(s)", len(r.Roots))), nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequests{"client_roots": mcp.RootsInput()}}, nil
		})
	add("test_input_required_result_request_state", "Round-trips a sealed requestState alongside an elicitation input request",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if _, ok := req.Params.InputResponses.Accepted("confirm"); ok && req.Params.RequestState == "request_state" {
				return text("state-ok: requestState received and confirmation accepted"), nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequests{"confirm": confirm}, RequestState: "request_state"}, nil
		})
	add("test_input_required_result_multiple_inputs", "Asks for elicitation, sampling and roots input in one round",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			in := req.Params.InputResponses
			c, okName := in.Accepted("user_name")
			g, okGreeting := in.CreateMessage("greeting")
			r, okRoots := in.ListRoots("client_roots")
			if name, _ := c["name"].(string); okName && name != "" && okGreeting && okRoots {
				return text(fmt.Sprintf("%s %s — %d root(s) visible", g.Content.Text, name, len(r.Roots))), nil
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequests{"user_name": askName, "greeting": greeting, "client_roots": mcp.RootsInput()},
				RequestState:  "multiple_inputs",
			}, nil
		})
	add("test_input_required_result_multi_round", "Two elicitation rounds with evolving requestState before completing",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			state := req.Params.RequestState
			var round struct {
				Round int    `json:"round"`
				Name  string `json:"name,omitempty"`
			}
			_ = jsonrpc.Unmarshal([]byte(state), &round)
			switch round.Round {
			case 1:
				name := "unknown"
				if c, ok := req.Params.InputResponses.Accepted("step1"); ok {
					if n, _ := c["name"].(string); n != "" {
						name = n
					}
				}
				next, _ := jsonrpc.Marshal(map[string]any{"round": 2, "name": name})
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequests{"step2": mcp.ElicitInput(&mcp.ElicitParams{
						Message:         "Step 2: What is your favorite color?",
						RequestedSchema: json.RawMessage(`{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}`),
					})},
					RequestState: string(next),
				}, nil
			case 2:
				color := "unknown"
				if c, ok := req.Params.InputResponses.Accepted("step2"); ok {
					if v, _ := c["color"].(string); v != "" {
						color = v
					}
				}
				return text(fmt.Sprintf("Multi-round complete: %s likes %s", round.Name, color)), nil
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequests{"step1": mcp.ElicitInput(&mcp.ElicitParams{Message: "Step 1: What is your name?", RequestedSchema: nameSchema})},
				RequestState:  `{"round":1}`,
			}, nil
		})
	add("test_input_required_result_tampered_state", "Rejects retries whose requestState fails integrity verification",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			// The server opened (authenticated and decrypted) the state
			// before this handler runs; a tampered one never gets here.
			if _, ok := req.Params.InputResponses.Accepted("confirm"); ok && req.Params.RequestState == "tampered_state" {
				return text("state-ok: requestState received and confirmation accepted"), nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequests{"confirm": confirm}, RequestState: "tampered_state"}, nil
		})
	add("test_input_required_result_capabilities", "Asks only for the kinds of input the client declared",
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if len(req.Params.InputResponses) > 0 {
				return text("Capability-aware input requests fulfilled"), nil
			}
			caps := req.ClientCapabilities()
			reqs := mcp.InputRequests{}
			if caps.CanElicitForm() {
				reqs["user_name"] = askName
			}
			if caps.CanSample() {
				reqs["greeting"] = greeting
			}
			if caps.CanListRoots() {
				reqs["client_roots"] = mcp.RootsInput()
			}
			if len(reqs) == 0 {
				return text("No declared client capability supports an input request"), nil
			}
			return &mcp.CallToolResult{InputRequests: reqs}, nil
		})
}

func conformanceResources(s *mcp.Server) {
	static := func(r *mcp.Resource, contents func(uri string) *mcp.ResourceContents) {
		s.AddResource(r, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{contents(req.Params.URI)}}, nil
		})
	}
	static(&mcp.Resource{URI: "test://static-text", Name: "static-text", Title: "Static Text Resource",
		Description: "A static text resource for testing", MIMEType: "text/plain"},
		func(uri string) *mcp.ResourceContents {
			return &mcp.ResourceContents{URI: uri, MIMEType: "text/plain", Text: "This is the content of the static text resource."}
		})
	static(&mcp.Resource{URI: "test://static-binary", Name: "static-binary", Title: "Static Binary Resource",
		Description: "A static binary resource (image) for testing", MIMEType: "image/png"},
		func(uri string) *mcp.ResourceContents {
			return &mcp.ResourceContents{URI: uri, MIMEType: "image/png", Blob: conformanceImage}
		})
	static(&mcp.Resource{URI: "test://watched-resource", Name: "watched-resource", Title: "Watched Resource",
		Description: "A resource clients may subscribe to", MIMEType: "text/plain"},
		func(uri string) *mcp.ResourceContents {
			return &mcp.ResourceContents{URI: uri, MIMEType: "text/plain", Text: "Watched resource content"}
		})
	s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "test://template/{id}/data", Name: "template",
		Title: "Resource Template", Description: "A resource template with parameter substitution", MIMEType: "application/json"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			uri := req.Params.URI
			const prefix, suffix = "test://template/", "/data"
			id := uri[len(prefix) : len(uri)-len(suffix)]
			body, _ := jsonrpc.Marshal(map[string]any{"id": id, "templateTest": true, "data": "Data for ID: " + id})
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(body)}}}, nil
		})
}

func conformancePrompts(s *mcp.Server) {
	user := func(c mcp.Content) *mcp.PromptMessage { return &mcp.PromptMessage{Role: "user", Content: c} }
	s.AddPrompt(&mcp.Prompt{Name: "test_simple_prompt", Title: "Simple Test Prompt", Description: "A simple prompt without arguments"},
		func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{user(mcp.TextContent("This is a simple prompt for testing."))}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "test_prompt_with_arguments", Title: "Prompt With Arguments", Description: "A prompt with required arguments",
		Arguments: []*mcp.PromptArgument{
			{Name: "arg1", Description: "First test argument", Required: true},
			{Name: "arg2", Description: "Second test argument", Required: true},
		}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			a := req.Params.Arguments
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				user(mcp.TextContent(fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", a["arg1"], a["arg2"]))),
			}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "test_prompt_with_embedded_resource", Title: "Prompt With Embedded Resource",
		Description: "A prompt that includes an embedded resource",
		Arguments:   []*mcp.PromptArgument{{Name: "resourceUri", Description: "URI of the resource to embed", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				user(mcp.EmbeddedResource(&mcp.ResourceContents{URI: req.Params.Arguments["resourceUri"], MIMEType: "text/plain", Text: "Embedded resource content for testing."})),
				user(mcp.TextContent("Please process the embedded resource above.")),
			}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "test_prompt_with_image", Title: "Prompt With Image", Description: "A prompt that includes image content"},
		func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				user(mcp.ImageContent(conformanceImage, "image/png")),
				user(mcp.TextContent("Please analyze the image above.")),
			}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "test_input_required_result_prompt", Description: "Asks for context with an elicitation input request"},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			if c, ok := req.Params.InputResponses.Accepted("user_context"); ok {
				ctxText, _ := c["context"].(string)
				return &mcp.GetPromptResult{
					Description: "A prompt with elicited context",
					Messages:    []*mcp.PromptMessage{user(mcp.TextContent("Context: " + ctxText))},
				}, nil
			}
			return &mcp.GetPromptResult{InputRequests: mcp.InputRequests{"user_context": mcp.ElicitInput(&mcp.ElicitParams{
				Message:         "Please provide context for the prompt",
				RequestedSchema: json.RawMessage(`{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}`),
			})}}, nil
		})
}

func conformanceComplete(_ context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}, nil
}

// conformanceTaskTools are the fixtures of the suite's tasks-* scenarios
// (the tasks extension, SEP-2663, at 2026-07-28).
func conformanceTaskTools(s *mcp.Server) {
	add := func(name, desc, support string, schema json.RawMessage, h mcp.ToolHandler) {
		if schema == nil {
			schema = emptySchema
		}
		t := &mcp.Tool{Name: name, Description: desc, InputSchema: schema}
		if support != "" {
			t.Execution = &mcp.ToolExecution{TaskSupport: support}
		}
		s.AddTool(t, h)
	}
	add("greet", "Returns a greeting (never a task)", "",
		json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","description":"Who to greet"}}}`),
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				Name string `json:"name"`
			}
			_ = jsonrpc.Unmarshal(req.Params.Arguments, &args)
			return text("Hello, " + args.Name + "!"), nil
		})
	add("slow_compute", "Sleeps seconds, then returns; a task when seconds > 0", mcp.TaskSupportOptional,
		json.RawMessage(`{"type":"object","properties":{"seconds":{"type":"number","minimum":0,"maximum":600,"description":"How long to work"},"label":{"type":"string","description":"A label echoed in the result"}}}`),
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				Seconds float64 `json:"seconds"`
				Label   string  `json:"label"`
			}
			_ = jsonrpc.Unmarshal(req.Params.Arguments, &args)
			if args.Seconds < 0 || args.Seconds > 600 {
				return nil, fmt.Errorf("slow_compute: seconds must be 0–600")
			}
			if args.Seconds > 0 {
				req.RunAsTask()
				if err := sleep(ctx, time.Duration(args.Seconds*float64(time.Second))); err != nil {
					return nil, err
				}
			}
			return text(fmt.Sprintf("Computed %s in %gs", args.Label, args.Seconds)), nil
		})
	add("failing_job", "Runs as a task and fails with a tool error after a second", mcp.TaskSupportRequired, nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.RunAsTask()
			if err := sleep(ctx, time.Second); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("failing_job failed on purpose")
		})
	add("protocol_error_job", "Runs as a task and panics, a protocol-level error", mcp.TaskSupportOptional, nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.RunAsTask()
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return nil, err
			}
			panic("protocol_error_job panics on purpose")
		})
	add("confirm_delete", "Asks the client to confirm, then reports", mcp.TaskSupportOptional,
		json.RawMessage(`{"type":"object","properties":{"filename":{"type":"string","description":"The file to delete"}}}`),
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				Filename string `json:"filename"`
			}
			_ = jsonrpc.Unmarshal(req.Params.Arguments, &args)
			res, err := req.Elicit(ctx, &mcp.ElicitParams{
				Message:         "Delete " + args.Filename + "?",
				RequestedSchema: json.RawMessage(`{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}`),
			})
			if err != nil {
				return nil, err
			}
			if ok, _ := res.Content["confirm"].(bool); res.Action == "accept" && ok {
				return text("Deleted " + args.Filename), nil
			}
			return text("Kept " + args.Filename), nil
		})
	add("multi_input", "Asks two questions at once, then reports both answers", mcp.TaskSupportOptional, nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var (
				wg      sync.WaitGroup
				answers [2]*mcp.ElicitResult
				errs    [2]error
			)
			for i := range answers {
				wg.Add(1)
				go func() { // owner: this handler; exit: the answer arrives or ctx ends
					defer wg.Done()
					answers[i], errs[i] = req.Elicit(ctx, &mcp.ElicitParams{
						Message:         fmt.Sprintf("Question %d: your name?", i+1),
						RequestedSchema: nameSchema,
					})
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return nil, err
				}
			}
			a, _ := jsonrpc.Marshal(answers[0].Content)
			b, _ := jsonrpc.Marshal(answers[1].Content)
			return text(fmt.Sprintf("answers: %s, %s", a, b)), nil
		})
	add("test_tool_with_task", "Asks for a name (multi round-trip), then works on it as a task", mcp.TaskSupportRequired, nil,
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			c, ok := req.Params.InputResponses.Accepted("user_name")
			name, _ := c["name"].(string)
			if !ok || name == "" {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequests{"user_name": mcp.ElicitInput(&mcp.ElicitParams{
					Message: "What is your name?", RequestedSchema: nameSchema,
				})}}, nil
			}
			req.RunAsTask()
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return nil, err
			}
			return text("Hello, " + name + "! (from a task)"), nil
		})
}
