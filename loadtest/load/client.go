package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Protocol revisions the client speaks.
const (
	// DefaultProtocolVersion is requested at initialize.
	DefaultProtocolVersion = "2025-11-25"
	// ModernProtocolVersion is the stateless revision of [Client.Modern].
	ModernProtocolVersion = "2026-07-28"
)

// Accept header values. The 2025 revisions require a client to list both
// media types on POST (2025-11-25 basic/transports §Sending Messages to the
// Server); the one-type values are for servers that, like mcpfiber, answer
// with the one type the client takes.
const (
	AcceptBoth = "application/json, text/event-stream"
	AcceptJSON = "application/json"
	AcceptSSE  = "text/event-stream"
)

// Options configure a [Client]. A nil *Options means defaults.
type Options struct {
	// MaxConns bounds the TCP connections to the server. Default: 512.
	MaxConns int
	// Timeout bounds each request (write and read). Default: 10s.
	Timeout time.Duration
	// ProtocolVersion is requested at initialize. Default:
	// DefaultProtocolVersion.
	ProtocolVersion string
}

// A Client sends MCP Streamable HTTP requests to one endpoint, or spreads
// them over several (the nodes of [NewBalancedClient]), over a pool of
// keep-alive connections per node (a fasthttp HostClient), and summarises
// each answer as a [Response]. It keeps no session state of its own:
// callers hold session IDs. It is safe for concurrent use.
type Client struct {
	nodes   []*node
	next    atomic.Uint64 // round robin over nodes: the next request goes to nodes[next % len]
	init    []byte        // the params of initialize
	version string
	timeout time.Duration
}

// A node is one endpoint of a [Client].
type node struct {
	url  string
	addr string // host:port
	host string // Host header
	path string
	tls  bool
	hc   *fasthttp.HostClient
	// down counts the calls of [Client.MarkDown] for this node. A request
	// that fails on its connection compares it with its value when the
	// request was sent: if it changed, the node went down with the request
	// in flight (Response.Lost); if not, the connection was dead before
	// the request (a pooled connection to a node already gone), and the
	// request is sent to the next node as a load balancer would.
	down atomic.Uint64
}

// NewClient returns a Client for the endpoint rawURL (http or https, e.g.
// http://127.0.0.1:8080/mcp).
func NewClient(rawURL string, opts *Options) (*Client, error) {
	return NewBalancedClient([]string{rawURL}, opts)
}

// NewBalancedClient returns a Client that spreads its requests over the
// endpoints urls as a round-robin load balancer does: each request goes to
// the next node in turn, whoever sends it, so that consecutive requests of
// one session land on different nodes. A request that cannot reach its
// node (connection refused, or a connection the node closed before
// answering) or that its node answers 503 (a refusal: the node did not
// process it; mcpfiber's answer while it drains) is sent to the next one,
// until every node was tried, as nginx does with proxy_next_upstream
// error http_503 non_idempotent; see [Response.Failovers]. opts applies to
// each node (MaxConns is per node). With one URL it is [NewClient].
func NewBalancedClient(urls []string, opts *Options) (*Client, error) {
	if len(urls) == 0 {
		return nil, errors.New("load: no URL")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 512
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.ProtocolVersion == "" {
		o.ProtocolVersion = DefaultProtocolVersion
	}
	c := &Client{
		version: o.ProtocolVersion,
		timeout: o.Timeout,
		init:    []byte(`{"protocolVersion":"` + o.ProtocolVersion + `","capabilities":{},"clientInfo":` + ClientInfo + `}`),
	}
	for _, rawURL := range urls {
		n, err := newNode(rawURL, &o)
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

func newNode(rawURL string, o *Options) (*node, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("load: url %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("load: url %q: scheme must be http or https", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("load: url %q: no host", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr = net.JoinHostPort(u.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	path := u.RequestURI()
	n := &node{
		url:  u.Scheme + "://" + u.Host + path,
		addr: addr,
		host: u.Host,
		path: path,
		tls:  u.Scheme == "https",
	}
	n.hc = &fasthttp.HostClient{
		Addr:                          addr,
		IsTLS:                         n.tls,
		TLSConfig:                     &tls.Config{ServerName: u.Hostname()},
		MaxConns:                      o.MaxConns,
		MaxConnWaitTimeout:            o.Timeout,
		ReadTimeout:                   o.Timeout,
		WriteTimeout:                  o.Timeout,
		MaxIdleConnDuration:           time.Minute,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		MaxIdemponentCallAttempts:     1,
	}
	return n, nil
}

// URL returns the endpoint (the first node's).
func (c *Client) URL() string { return c.nodes[0].url }

// Addr returns the endpoint's host:port (the first node's).
func (c *Client) Addr() string { return c.nodes[0].addr }

// Nodes returns the number of endpoints.
func (c *Client) Nodes() int { return len(c.nodes) }

// NodeURL returns the endpoint of node i.
func (c *Client) NodeURL(i int) string { return c.nodes[i].url }

// NodeAddr returns the host:port of node i.
func (c *Client) NodeAddr(i int) string { return c.nodes[i].addr }

// MaxConns returns the bound on TCP connections to each node.
func (c *Client) MaxConns() int { return c.nodes[0].hc.MaxConns }

// ProtocolVersion returns the version requested at initialize.
func (c *Client) ProtocolVersion() string { return c.version }

// CloseIdleConnections closes the pooled keep-alive connections. Call it
// after the server restarted, as a client notices closed connections.
func (c *Client) CloseIdleConnections() {
	for _, n := range c.nodes {
		n.hc.CloseIdleConnections()
	}
}

// MarkDown records that node i is about to go down (a signal is on its
// way): the requests in flight on it that then fail on their connection
// are reported as lost ([Response.Lost]) rather than sent to another
// node, and its idle connections are closed once it is gone
// ([Client.CloseIdleConnectionsTo]).
func (c *Client) MarkDown(i int) { c.nodes[i].down.Add(1) }

// CloseIdleConnectionsTo closes the pooled connections to node i, as a
// load balancer notices that a node's connections closed.
func (c *Client) CloseIdleConnectionsTo(i int) { c.nodes[i].hc.CloseIdleConnections() }

// Check tells whether every endpoint answers HTTP at all, within
// timeout: it connects, then sends one DELETE with a session ID no server
// knows. Any HTTP answer will do (404 from a server with sessions, 405
// from one without); it returns the error of the connect (e.g. "dial tcp
// 127.0.0.1:8080: connect: connection refused") or of the request, for
// the first node that failed.
func (c *Client) Check(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, n := range c.nodes {
		if err := c.check(ctx, n, timeout); err != nil {
			if len(c.nodes) > 1 {
				return fmt.Errorf("%s: %w", n.url, err)
			}
			return err
		}
	}
	return nil
}

func (c *Client) check(ctx context.Context, n *node, timeout time.Duration) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return err
	}
	conn.Close()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(n.url)
	req.Header.SetMethod(fasthttp.MethodDelete)
	req.Header.SetBytesKV(hdrSessionID, []byte("00000000000000000000000000000000"))
	req.Header.SetBytesKV(hdrVersion, []byte(c.version))
	deadline, _ := ctx.Deadline()
	if err := n.hc.DoDeadline(req, resp, deadline); err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			return fmt.Errorf("no HTTP answer within %s", timeout)
		}
		return err
	}
	return nil
}

// A Response summarises one HTTP exchange.
type Response struct {
	// Status is the HTTP status, or 0 when Err is set.
	Status int
	// Err is the transport error (connection refused, timeout, …).
	Err error
	// SSE reports a text/event-stream answer.
	SSE bool
	// Result reports that a JSON-RPC result arrived (in the JSON body or
	// in an SSE event).
	Result bool
	// RPCError is the code of the JSON-RPC error that arrived, or 0.
	RPCError int64
	// SessionID is the Mcp-Session-Id header of the answer.
	SessionID string
	// Version is the protocolVersion of an initialize result.
	Version string
	// RetryAfter is the Retry-After header, in seconds (0 if absent).
	RetryAfter int
	// Node is the index of the node that answered (or, with Err set, the
	// last one tried).
	Node int
	// Failovers counts the nodes tried before Node that could not be
	// reached (connection refused, or a connection closed before an
	// answer on a node not marked down) or answered 503: a load
	// balancer's retries, which the sender does not see.
	Failovers int
	// Unavailable counts the 503s among the Failovers.
	Unavailable int
	// Lost reports a request in flight on a node that went down
	// ([Client.MarkDown]) and failed on its connection: it may or may not
	// have been served, so it is not sent again.
	Lost bool
}

// OK reports a 2xx answer with a JSON-RPC result (or, for notifications
// and DELETE, a 2xx with no error).
func (r *Response) OK() bool {
	return r.Err == nil && r.Status >= 200 && r.Status < 300 && r.RPCError == 0
}

// Key names the outcome for counting: "200", "404", "400 -32022",
// "error: <reason>".
func (r *Response) Key() string {
	switch {
	case r.Err != nil:
		return "error: " + errReason(r.Err)
	case r.RPCError != 0:
		return strconv.Itoa(r.Status) + " " + strconv.FormatInt(r.RPCError, 10)
	}
	return strconv.Itoa(r.Status)
}

func errReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return "no free connections"
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection closed"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op + " " + oe.Err.Error()
	}
	return err.Error()
}

// Headers and bodies, as bytes so that setting them does not allocate.
var (
	hdrSessionID = []byte("Mcp-Session-Id")
	hdrVersion   = []byte("MCP-Protocol-Version")
	hdrMethod    = []byte("Mcp-Method")
	hdrName      = []byte("Mcp-Name")
	hdrAccept    = []byte("Accept")
	ctJSON       = []byte("application/json")
	ctSSE        = []byte("text/event-stream")

	bodyInitialized = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
)

// A Message is the JSON-RPC request a POST carries, built into the request
// body without allocating.
type Message struct {
	ID     int64  // request ID (a request), or 0 for a notification
	Method string // e.g. "tools/call"
	// Params is the raw params object (may be empty).
	Params []byte
}

// Request is one HTTP request to the endpoint.
type Request struct {
	Method    string // POST, GET, DELETE
	SessionID string // Mcp-Session-Id, if any
	Version   string // MCP-Protocol-Version, if any
	Accept    string // Accept (POST default AcceptBoth; GET default AcceptSSE)
	// Body is sent as is when Msg is nil.
	Body []byte
	// Msg, when set, is encoded as the body.
	Msg *Message
	// Extra headers, as name/value pairs.
	Extra []string
	// StatusOnly: the answer's body is read off the connection but not
	// looked at, and of its headers only the status is reported. For
	// loops that check only the status (BenchmarkMiss), so that the
	// client's work does not grow with the size of the server's answer.
	StatusOnly bool
}

// Do sends r to the next node and summarises the answer. It reads the
// whole answer body, so it must not be used for GET streams that stay
// open (see [Client.OpenStream]). A node that cannot be reached is
// skipped for the next (see [NewBalancedClient]); with one node, its
// error is the answer.
func (c *Client) Do(r *Request) Response {
	i := c.pick()
	var out Response
	failovers, unavailable := 0, 0
	for {
		n := c.nodes[i]
		down := n.down.Load()
		out = c.do(n, r)
		out.Node, out.Failovers, out.Unavailable = i, failovers, unavailable
		if out.Err == nil {
			if out.Status != 503 || failovers == len(c.nodes)-1 {
				return out
			}
			failovers++
			unavailable++
			i = (i + 1) % len(c.nodes)
			continue
		}
		if !isConnErr(out.Err) {
			return out
		}
		if n.down.Load() != down && !isDialErr(out.Err) {
			out.Lost = true // in flight when its node went down
			return out
		}
		if failovers == len(c.nodes)-1 {
			return out // no node answered
		}
		failovers++
		i = (i + 1) % len(c.nodes)
	}
}

// DoAt sends r to node i, and to no other: a client that picked its node
// (see [Client.Do] for the answer).
func (c *Client) DoAt(i int, r *Request) Response {
	out := c.do(c.nodes[i], r)
	out.Node = i
	return out
}

// pick returns the index of the node of the next request.
func (c *Client) pick() int {
	if len(c.nodes) == 1 {
		return 0
	}
	return int((c.next.Add(1) - 1) % uint64(len(c.nodes)))
}

// isDialErr reports an error of the connect: the request was not sent.
func isDialErr(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial" || errors.Is(err, fasthttp.ErrDialTimeout)
}

// isConnErr reports a connection that failed before an answer: a refused
// or failed connect, or a connection closed or reset by the peer. Timeouts
// are not among them: the node may still be working on the request.
func isConnErr(err error) bool {
	return isDialErr(err) || errors.Is(err, fasthttp.ErrConnectionClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED)
}

// do sends r to node n.
func (c *Client) do(n *node, r *Request) Response {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(n.url)
	req.Header.SetMethod(r.Method)
	accept := r.Accept
	if accept == "" {
		accept = AcceptBoth
		if r.Method == fasthttp.MethodGet {
			accept = AcceptSSE
		}
	}
	req.Header.SetBytesKV(hdrAccept, s2b(accept))
	if r.SessionID != "" {
		req.Header.SetBytesKV(hdrSessionID, s2b(r.SessionID))
	}
	if r.Version != "" {
		req.Header.SetBytesKV(hdrVersion, s2b(r.Version))
	}
	for i := 0; i+1 < len(r.Extra); i += 2 {
		req.Header.Set(r.Extra[i], r.Extra[i+1])
	}
	if r.Method == fasthttp.MethodPost {
		req.Header.SetContentTypeBytes(ctJSON)
		if r.Msg != nil {
			appendMessage(req, r.Msg)
		} else {
			req.SetBodyRaw(r.Body)
		}
	}
	var out Response
	if err := n.hc.Do(req, resp); err != nil {
		out.Err = err
		return out
	}
	out.Status = resp.StatusCode()
	if r.StatusOnly {
		return out
	}
	if sid := resp.Header.PeekBytes(hdrSessionID); len(sid) > 0 {
		out.SessionID = string(sid)
	}
	if ra := resp.Header.Peek(fasthttp.HeaderRetryAfter); len(ra) > 0 {
		out.RetryAfter, _ = strconv.Atoi(string(ra))
	}
	out.SSE = bytes.HasPrefix(resp.Header.ContentType(), ctSSE)
	summarise(&out, resp.Body())
	return out
}

// appendMessage writes m as the JSON-RPC body of req.
func appendMessage(req *fasthttp.Request, m *Message) {
	var num [20]byte
	req.AppendBodyString(`{"jsonrpc":"2.0",`)
	if m.ID != 0 {
		req.AppendBodyString(`"id":`)
		req.AppendBody(strconv.AppendInt(num[:0], m.ID, 10))
		req.AppendBodyString(`,`)
	}
	req.AppendBodyString(`"method":"`)
	req.AppendBodyString(m.Method)
	req.AppendBodyString(`"`)
	if len(m.Params) > 0 {
		req.AppendBodyString(`,"params":`)
		req.AppendBody(m.Params)
	}
	req.AppendBodyString(`}`)
}

var (
	tokResult  = []byte(`"result":`)
	tokError   = []byte(`"error":`)
	tokCode    = []byte(`"code":`)
	tokVersion = []byte(`"protocolVersion":"`)
	tokData    = []byte("data:")
	tokID      = []byte("id:")
)

// summarise finds the JSON-RPC response in body (a JSON body, or the data
// of the SSE events of body) and records whether it is a result or an
// error. It looks for tokens rather than decoding: the load generator must
// not be the bottleneck, and it only needs to tell a result from an error.
func summarise(out *Response, body []byte) {
	if !out.SSE {
		summariseJSON(out, body)
		return
	}
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if !bytes.HasPrefix(line, tokData) {
			continue
		}
		summariseJSON(out, bytes.TrimSpace(line[len(tokData):]))
		if out.Result || out.RPCError != 0 {
			return
		}
	}
}

func summariseJSON(out *Response, msg []byte) {
	if i := bytes.Index(msg, tokResult); i >= 0 && !bytes.Contains(msg[:i], tokError) {
		out.Result = true
		if j := bytes.Index(msg, tokVersion); j >= 0 {
			v := msg[j+len(tokVersion):]
			if k := bytes.IndexByte(v, '"'); k >= 0 {
				out.Version = string(v[:k])
			}
		}
		return
	}
	if i := bytes.Index(msg, tokError); i >= 0 {
		out.RPCError = -1 // an error without a readable code
		if j := bytes.Index(msg[i:], tokCode); j >= 0 {
			rest := bytes.TrimLeft(msg[i+j+len(tokCode):], " ")
			k := 0
			for k < len(rest) && (rest[k] == '-' || rest[k] >= '0' && rest[k] <= '9') {
				k++
			}
			if n, err := strconv.ParseInt(string(rest[:k]), 10, 64); err == nil && n != 0 {
				out.RPCError = n
			}
		}
	}
}

// ClientInfo is the clientInfo the client sends.
const ClientInfo = `{"name":"mcpfiber-loadtest","version":"0.1.0"}`

// Initialize starts a session: POST initialize with the client's protocol
// version (2025-11-25 basic/lifecycle §Initialization). On success the
// Response has the SessionID and the negotiated Version.
func (c *Client) Initialize(id int64) Response {
	return c.Do(&Request{
		Method: fasthttp.MethodPost,
		Msg:    &Message{ID: id, Method: "initialize", Params: c.init},
	})
}

// Initialized sends notifications/initialized in session sid (expects 202).
func (c *Client) Initialized(sid, version string) Response {
	return c.Do(&Request{Method: fasthttp.MethodPost, SessionID: sid, Version: version, Body: bodyInitialized})
}

// Handshake runs initialize and notifications/initialized and returns the
// session ID and version, or the first Response that failed.
func (c *Client) Handshake(id int64) (sid, version string, failed *Response) {
	r := c.Initialize(id)
	if !r.OK() || r.SessionID == "" {
		if r.OK() {
			r.Err = errors.New("initialize: no Mcp-Session-Id in the answer")
		}
		return "", "", &r
	}
	sid, version = r.SessionID, r.Version
	if version == "" {
		version = c.version
	}
	if r2 := c.Initialized(sid, version); !r2.OK() {
		return "", "", &r2
	}
	return sid, version, nil
}

// A Session is an established session: its Mcp-Session-Id and the
// protocol version it negotiated.
type Session struct{ ID, Version string }

// Handshakes establishes n sessions (initialize + notifications/initialized,
// request IDs 1..n), at most conc at a time, and returns them in order. It
// fails with the key of the first failed answer (see [Response.Key]) if
// any handshake failed.
func (c *Client) Handshakes(ctx context.Context, n, conc int) ([]Session, error) {
	ss := make([]Session, n)
	var firstErr atomic.Pointer[string]
	ForEach(ctx, n, conc, func(i int) {
		sid, version, failed := c.Handshake(int64(i + 1))
		if failed != nil {
			k := failed.Key()
			firstErr.CompareAndSwap(nil, &k)
			return
		}
		ss[i] = Session{sid, version}
	})
	if e := firstErr.Load(); e != nil {
		return nil, errors.New(*e)
	}
	return ss, nil
}

// EchoParams are the params of the tools/call that [Client.Call] sends: the
// echo tool with a short message.
var EchoParams = []byte(`{"name":"echo","arguments":{"message":"hello"}}`)

// Call sends tools/call echo with request id in session sid, with the given
// Accept header ("" means AcceptBoth).
func (c *Client) Call(sid, version string, id int64, accept string) Response {
	return c.Do(&Request{
		Method: fasthttp.MethodPost, SessionID: sid, Version: version, Accept: accept,
		Msg: &Message{ID: id, Method: "tools/call", Params: EchoParams},
	})
}

// Delete ends session sid (2025-11-25 basic/transports §Session
// Management).
func (c *Client) Delete(sid, version string) Response {
	return c.Do(&Request{Method: fasthttp.MethodDelete, SessionID: sid, Version: version})
}

// modernParams is a 2026-07-28 tools/call: the request carries its
// protocol version, capabilities and client info in _meta (2026-07-28
// basic/index §Request metadata).
var modernParams = []byte(`{"name":"echo","arguments":{"message":"hello"},"_meta":{` +
	`"io.modelcontextprotocol/protocolVersion":"` + ModernProtocolVersion + `",` +
	`"io.modelcontextprotocol/clientCapabilities":{},` +
	`"io.modelcontextprotocol/clientInfo":` + ClientInfo + `}}`)

// Modern sends a 2026-07-28 stateless tools/call echo: no session, the
// MCP-Protocol-Version, Mcp-Method and Mcp-Name headers, and _meta.
func (c *Client) Modern(id int64) Response {
	return c.Do(&Request{
		Method: fasthttp.MethodPost, Version: ModernProtocolVersion,
		Msg:   &Message{ID: id, Method: "tools/call", Params: modernParams},
		Extra: []string{string(hdrMethod), "tools/call", string(hdrName), "echo"},
	})
}
