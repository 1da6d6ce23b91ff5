package jsonrpc

import (
	"strconv"
	"sync"
	"unsafe"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/jsonscan"
)

// MaxBatch is the largest batch [Decode] accepts, as in the TypeScript SDK.
const MaxBatch = 100

// A Kind says what a [Message] is.
type Kind uint8

// The kinds of JSON-RPC message (2025-11-25 basic §Messages).
const (
	KindRequest      Kind = iota + 1 // has a method and an ID; expects a response
	KindNotification                 // has a method and no ID; gets no response
	KindResponse                     // has an ID and a result or an error
)

// String returns "request", "notification" or "response".
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	}
	return "invalid"
}

// A Message is one decoded JSON-RPC message. Its fields own their memory:
// a Message stays valid after the body it was decoded from is reused.
type Message struct {
	Kind Kind
	// ID is the raw JSON of the ID: a string or an integer for requests,
	// possibly null for error responses, nil for notifications.
	ID json.RawMessage
	// Method is set for requests and notifications.
	Method string
	// Params is the raw params object or array, or nil.
	Params json.RawMessage
	// Result is the raw result of a success response.
	Result json.RawMessage
	// Error is the error of an error response.
	Error *Error
}

// wireMessage is the JSON shape [Decode] reads. Pointers tell a missing
// member from an empty one.
type wireMessage struct {
	JSONRPC *string         `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`
}

// Decode decodes a POST body: one JSON-RPC message, or a JSON array of them
// (a batch of at most [MaxBatch]). batch reports whether body was an array.
//
// Errors are *Error values ready to send: [CodeParseError] when body is not
// JSON, [CodeInvalidRequest] when it is JSON but not a JSON-RPC 2.0 message
// as MCP restricts it (2025-11-25 basic §Requests: the ID is a string or an
// integer, never null). A batch with any invalid member is rejected whole.
// Member names are matched exactly, as [Unmarshal] does: {"Method":"ping"}
// has no method, and an object naming a member twice is
// [CodeInvalidRequest]; text that is not UTF-8 is [CodeParseError].
//
// Decode copies what it keeps; body may be reused when it returns. For a
// body that is not a batch it allocates the Message together with the
// slice that holds it, and what the decoder allocates for the members the
// Message keeps (TestDecodeAllocs). A request or notification of the
// common shape skips the decoder: its ID and params are copied into the
// same allocation when together they take at most 208 bytes (on 64-bit
// platforms), and into one more otherwise, and its method costs nothing
// when it is one of the methods clients send most; a typical tools/call
// is one allocation (TestScanRequestAllocs).
func Decode(body []byte) (msgs []*Message, batch bool, err *Error) {
	return DecodeIn(body, nil)
}

// A Single is room for the message of a body that is not a batch, for
// [DecodeIn]: the [Message], the slice that holds it and [SingleRoom]
// bytes for its ID and params. A caller that places it in something it
// allocates anyway spares Decode's allocation of the message.
type Single struct {
	single
	b [SingleRoom]byte
}

// SingleRoom is the room a [Single] has for a message's ID and params:
// enough for a ping, a tools/list, or a tools/call with a short
// argument or two.
const SingleRoom = 96

// DecodeIn is [Decode], with in (when not nil) as the storage of a
// request or notification of the common shape (see Decode) whose ID and
// params fit in SingleRoom bytes: the message returned is then in's, and
// Decode's allocation of it is spared. Anything else is decoded as
// Decode does and in is left alone. in must be zero, and once used it
// belongs to the message: it must not be reused.
func DecodeIn(body []byte, in *Single) (msgs []*Message, batch bool, err *Error) {
	i := skipSpace(body)
	if i == len(body) {
		return nil, false, errEmptyBody
	}
	if body[i] != '[' {
		if one := scanRequest(body, in); one != nil {
			return one.s[:], false, nil
		}
		one := new(single) // the message and the slice in one allocation
		if err := decodeOne(body, &one.m); err != nil {
			return nil, false, err
		}
		one.s[0] = &one.m
		return one.s[:], false, nil
	}
	var raws []json.RawMessage
	if e := Unmarshal(body, &raws); e != nil {
		return nil, true, decodeError(e)
	}
	switch {
	case len(raws) == 0:
		return nil, true, errEmptyBatch
	case len(raws) > MaxBatch:
		return nil, true, errBatchTooLarge
	}
	ms := make([]Message, len(raws))
	msgs = make([]*Message, len(raws))
	for k, raw := range raws {
		if err := decodeOne(raw, &ms[k]); err != nil {
			return nil, true, &Error{Code: err.Code, Message: err.Message + " (batch member " + strconv.Itoa(k) + ")"}
		}
		msgs[k] = &ms[k]
	}
	return msgs, true, nil
}

// single is what Decode returns for a body that is not a batch: the
// message and the one-element slice that points at it.
type single struct {
	m Message
	s [1]*Message
}

// inlineSingle and smallInlineSingle are a single with room (b) for the
// ID and params of a request scanRequest decodes, so that a typical
// request costs one allocation; nothing but the ID and params refers to
// b. Their sizes are malloc size classes, so no byte of the block goes
// to rounding up. On 64-bit platforms single is 112 bytes; inlineSingle,
// at 320, leaves 208 for b, enough for the ID and params of most
// tools/call requests (an integer or a UUID ID, a tool name and a few
// short arguments); smallInlineSingle, at 192, leaves 80, enough for a
// ping, a tools/list or a tools/call with one short argument. Having the
// two keeps a request within 112 bytes of what single and a buffer of its
// own would take, where inlineSingle alone would take up to 200 more, and
// bytes allocated cost about as much time as allocations do. The bytes
// follow the pointers, so the garbage collector does not scan them.
type inlineSingle struct {
	single
	b [inlineLen]byte
}

type smallInlineSingle struct {
	single
	b [smallInlineLen]byte
}

// The lengths of inlineSingle.b and smallInlineSingle.b.
const (
	inlineLen      = 320 - unsafe.Sizeof(single{})
	smallInlineLen = 192 - unsafe.Sizeof(single{})
)

// wirePool holds the wireMessages decodeOne decodes into; they go back
// zeroed, since the members decoded into them now belong to a Message.
var wirePool = sync.Pool{New: func() any { return new(wireMessage) }}

// decodeOne decodes raw into *m, which it sets only on success.
func decodeOne(raw []byte, m *Message) *Error {
	w := wirePool.Get().(*wireMessage)
	defer func() {
		*w = wireMessage{}
		wirePool.Put(w)
	}()
	if e := Unmarshal(raw, w); e != nil {
		return decodeError(e)
	}
	if w.JSONRPC == nil || *w.JSONRPC != "2.0" {
		return errVersion
	}
	params := nullToNil(w.Params)
	if w.Method != nil {
		if *w.Method == "" {
			return errNoMethod
		}
		if w.Result != nil || w.Error != nil {
			return errMixed
		}
		if params != nil && params[0] != '{' && params[0] != '[' {
			return errParams
		}
		if w.ID == nil {
			*m = Message{Kind: KindNotification, Method: *w.Method, Params: params}
			return nil
		}
		if !validRequestID(w.ID) {
			return errRequestID
		}
		*m = Message{Kind: KindRequest, ID: w.ID, Method: *w.Method, Params: params}
		return nil
	}
	// A response: exactly one of result and error, and an ID.
	if (w.Result == nil) == (w.Error == nil) || w.ID == nil {
		return errNotMessage
	}
	if w.Error == nil && !validRequestID(w.ID) {
		return errRequestID
	}
	if w.Error != nil && !validRequestID(w.ID) && string(w.ID) != "null" {
		return errRequestID
	}
	*m = Message{Kind: KindResponse, ID: w.ID, Params: params, Result: w.Result, Error: w.Error}
	return nil
}

// validRequestID reports whether raw is a JSON string or a JSON integer.
func validRequestID(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	switch c := raw[0]; {
	case c == '"':
		return true // the decoder already checked the string is well formed
	case c == '-' || (c >= '0' && c <= '9'):
		for _, c := range raw[1:] {
			if c < '0' || c > '9' {
				return false // a fraction or an exponent: not an integer
			}
		}
		return raw[0] != '-' || len(raw) > 1
	}
	return false
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if string(raw) == "null" {
		return nil
	}
	return raw
}

func decodeError(e error) *Error {
	switch {
	case IsDuplicateName(e):
		return errDuplicate
	case isSyntaxError(e):
		return errParse
	}
	return errNotMessage
}

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// The errors Decode returns. They are shared: callers must not modify them.
var (
	errParse         = NewError(CodeParseError, "Parse error: invalid JSON")
	errEmptyBody     = NewError(CodeParseError, "Parse error: empty body")
	errNotMessage    = NewError(CodeInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message")
	errDuplicate     = NewError(CodeInvalidRequest, "Invalid Request: an object names a member twice")
	errVersion       = NewError(CodeInvalidRequest, `Invalid Request: "jsonrpc" must be "2.0"`)
	errNoMethod      = NewError(CodeInvalidRequest, "Invalid Request: empty method")
	errMixed         = NewError(CodeInvalidRequest, "Invalid Request: a message with a method has no result or error")
	errParams        = NewError(CodeInvalidRequest, "Invalid Request: params must be an object or an array")
	errRequestID     = NewError(CodeInvalidRequest, "Invalid Request: id must be a string or an integer")
	errEmptyBatch    = NewError(CodeInvalidRequest, "Invalid Request: empty batch")
	errBatchTooLarge = NewError(CodeInvalidRequest, "Invalid Request: batch has more than "+strconv.Itoa(MaxBatch)+" messages")
)

// scanRequest decodes body as [decodeOne] does when it is a request or a
// notification of the common shape: an object with "jsonrpc":"2.0", a
// "method" string without escapes, a string or integer "id" (or none),
// "params" an object, an array or null (or none), and members JSON-RPC
// does not define. It returns nil for anything else (responses, escaped
// methods, text [jsonscan.Scanner] is not sure of, every error); the
// caller then decodes body with [Unmarshal], which reads what
// scanRequest accepts the same way (FuzzScanRequest).
//
// It copies the ID and params into one buffer, and names the common MCP
// methods with constants instead of copying them. The buffer is inside
// the message's allocation (an [inlineSingle] or a [smallInlineSingle])
// when the ID and params together fit in [inlineLen] bytes, and allocated
// apart otherwise: one allocation for a typical request, three at most
// (message, buffer, method). With in (see [DecodeIn]) and an ID and
// params that fit in it, it allocates nothing.
func scanRequest(body []byte, in *Single) *single {
	var version, method, id, params []byte
	var hasVersion, hasMethod bool
	sc := jsonscan.Scanner{B: body}
	ok := sc.Object(0, func(k []byte) bool {
		var ok, escaped bool
		switch string(k) {
		case "jsonrpc":
			version, escaped, ok = sc.String()
			hasVersion = true
			return ok && !escaped
		case "method":
			method, escaped, ok = sc.String()
			hasMethod = true
			return ok && !escaped
		case "id":
			id, ok = sc.Value(1)
			return ok
		case "params":
			params, ok = sc.Value(1)
			return ok
		case "result", "error":
			return false
		}
		return sc.Skip(1)
	})
	if !ok || !sc.AtEnd() || !hasVersion || string(version) != "2.0" || !hasMethod || len(method) == 0 {
		return nil
	}
	if string(params) == "null" {
		params = nil
	}
	if params != nil && params[0] != '{' && params[0] != '[' {
		return nil
	}
	kind := KindNotification
	if id != nil {
		if !validRequestID(id) {
			return nil
		}
		kind = KindRequest
	}
	// buf holds the ID then the params. The ID and the params are cut
	// from it with their capacity limited to their length, so an append
	// to either copies instead of writing over the other; nothing else
	// refers to buf (or to the rest of the b it is cut from).
	var one *single
	var buf []byte
	switch n := len(id) + len(params); {
	case in != nil && n <= len(in.b):
		one, buf = &in.single, in.b[:0:n] // the caller's
	case n == 0:
		one = new(single)
	case n <= int(smallInlineLen):
		in := new(smallInlineSingle) // the message, its slice and buf together
		one, buf = &in.single, in.b[:0:n]
	case n <= int(inlineLen):
		in := new(inlineSingle)
		one, buf = &in.single, in.b[:0:n]
	default:
		one, buf = new(single), make([]byte, 0, n)
	}
	buf = append(buf, id...)
	buf = append(buf, params...)
	m := &one.m
	one.s[0] = m
	m.Kind = kind
	if id != nil {
		m.ID = buf[:len(id):len(id)]
	}
	if params != nil {
		m.Params = buf[len(id):len(buf):len(buf)]
	}
	m.Method = methodName(method)
	return one
}

// methodName returns method as a string, without allocating for the
// methods clients send most.
func methodName(method []byte) string {
	switch string(method) {
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "initialize":
		return "initialize"
	case "notifications/initialized":
		return "notifications/initialized"
	case "notifications/cancelled":
		return "notifications/cancelled"
	case "ping":
		return "ping"
	case "resources/read":
		return "resources/read"
	case "prompts/get":
		return "prompts/get"
	}
	return string(method)
}
