package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// A Stream is an open GET stream of a session (2025-11-25 basic/transports
// §Listening for Messages from the Server), on a connection of its own.
//
// Streams do not use the Client's connection pool: a GET stream holds its
// connection for as long as it is open, and its body never ends, so it is
// read with net/http's response parser over a plain connection, one
// goroutine per stream (see [Stream.Read]).
type Stream struct {
	conn net.Conn
	resp *http.Response
	br   *bufio.Reader

	events   atomic.Int64 // SSE events with data
	comments atomic.Int64 // SSE comments (keep-alives)
}

// OpenStream opens the GET stream of session sid on the next node. It
// returns the HTTP status; the stream is nil unless the status is 200
// with text/event-stream.
func (c *Client) OpenStream(ctx context.Context, sid, version string) (*Stream, int, error) {
	return c.OpenStreamAt(ctx, c.pick(), sid, version, "")
}

// OpenStreamAt opens the GET stream of session sid on node i, with a
// Last-Event-ID header when lastEventID is not empty (2025-11-25
// basic/transports §Resumability and Redelivery): a client resuming its
// stream where a load balancer sent it. It returns as [Client.OpenStream]
// does; the error of a node that is down is the dial's (see
// [IsConnRefused]).
func (c *Client) OpenStreamAt(ctx context.Context, i int, sid, version, lastEventID string) (*Stream, int, error) {
	n := c.nodes[i]
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return nil, 0, err
	}
	if n.tls {
		host, _, _ := net.SplitHostPort(n.addr)
		tc := tls.Client(conn, &tls.Config{ServerName: host})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, 0, err
		}
		conn = tc
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nMcp-Session-Id: %s\r\n", n.path, n.host, sid)
	if version != "" {
		fmt.Fprintf(&b, "MCP-Protocol-Version: %s\r\n", version)
	}
	if lastEventID != "" {
		fmt.Fprintf(&b, "Last-Event-ID: %s\r\n", lastEventID)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		conn.Close()
		return nil, 0, err
	}
	br := bufio.NewReaderSize(conn, 2048)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		conn.Close()
		return nil, resp.StatusCode, nil
	}
	_ = conn.SetDeadline(time.Time{})
	return &Stream{conn: conn, resp: resp, br: bufio.NewReaderSize(resp.Body, 1024)}, resp.StatusCode, nil
}

// IsConnRefused reports an error of a connect that the node refused: it
// is down (or not up yet).
func IsConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// Read reads events until the stream ends or fails, calling onEvent (if
// not nil) with the data of each event that has data; data is only valid
// during the call. It returns nil when the server ended the stream, and
// the read error otherwise (including after Close). The caller owns the
// goroutine that runs Read; Close makes it return.
func (s *Stream) Read(onEvent func(data []byte)) error {
	if onEvent == nil {
		return s.ReadEvents(nil)
	}
	return s.ReadEvents(func(_, data []byte) {
		if data != nil {
			onEvent(data)
		}
	})
}

// ReadEvents is [Stream.Read] with each event's id field as well: what a
// client sends back as Last-Event-ID. It is called for the events with
// data and for those with an id field and no data (an SSE client updates
// its last event ID on both: the priming event of a 2025-11-25 stream is
// one): data is nil for an event without data, id is nil for an event
// without an id field (the last ID stands) and empty for an empty one
// (the last ID is reset). id and data are only valid during the call.
func (s *Stream) ReadEvents(onEvent func(id, data []byte)) error {
	var data, id []byte
	hasData, hasID := false, false
	for {
		line, err := s.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // an over-long line: keep reading it
			data = append(data, line...)
			continue
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if hasData {
				s.events.Add(1)
			}
			if onEvent != nil && (hasData || hasID) {
				var i, d []byte
				if hasID {
					i = id[:len(id):len(id)]
					if i == nil {
						i = []byte{}
					}
				}
				if hasData {
					d = data
				}
				onEvent(i, d)
			}
			data, id, hasData, hasID = data[:0], id[:0], false, false
		case line[0] == ':':
			s.comments.Add(1)
		case bytes.HasPrefix(line, tokData):
			d := line[len(tokData):]
			if len(d) > 0 && d[0] == ' ' {
				d = d[1:]
			}
			if len(d) > 0 {
				if hasData {
					data = append(data, '\n')
				}
				data = append(data, d...)
				hasData = true
			}
		case bytes.HasPrefix(line, tokID):
			d := line[len(tokID):]
			if len(d) > 0 && d[0] == ' ' {
				d = d[1:]
			}
			id, hasID = append(id[:0], d...), true
		}
	}
}

// Events returns the number of events with data read so far.
func (s *Stream) Events() int64 { return s.events.Load() }

// Comments returns the number of SSE comments (keep-alives) read so far.
func (s *Stream) Comments() int64 { return s.comments.Load() }

// Close closes the stream's connection.
func (s *Stream) Close() error { return s.conn.Close() }

// s2b returns the bytes of s without copying; they must not be modified.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
