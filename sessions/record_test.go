package sessions

import (
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// testConn is an mcp.Conn that only holds its state.
type testConn struct{ st *mcp.SessionState }

func newTestConn(version string) *testConn {
	return &testConn{st: mcp.NewSessionState(version, nil, mcp.ClientCapabilities{})}
}

func (c *testConn) State() *mcp.SessionState                     { return c.st }
func (c *testConn) Handle(*mcp.Call) ([]byte, *jsonrpc.Error)    { return nil, nil }
func (c *testConn) Notify(method string, params json.RawMessage) {}
func (c *testConn) Deliver(*jsonrpc.Message)                     {}
func (c *testConn) Close() error                                 { c.st.Close(); return nil }

// TestSessionRecord checks that Session.Record is the conn's record with
// the ID, creation and last activity the map keeps.
func TestSessionRecord(t *testing.T) {
	m := newTestMap(t, Options{})
	rec := mcp.SessionRecord{
		ProtocolVersion: "2025-11-25",
		ClientInfo:      &mcp.Implementation{Name: "c", Version: "1"},
		Initialized:     true,
		LogLevel:        mcp.LevelWarning,
		Subscriptions:   []string{"file:///a"},
	}
	conn := &testConn{st: mcp.RestoreSessionState(&rec)}
	s, err := m.Create(rec.ProtocolVersion, conn)
	if err != nil {
		t.Fatal(err)
	}
	s.Touch()
	got := s.Record()
	if got.ID != s.ID() || !got.Created.Equal(s.Created()) || got.Created.Location() != time.UTC {
		t.Errorf("Record() ID, Created = %q, %v, want %q, %v in UTC", got.ID, got.Created, s.ID(), s.Created())
	}
	if got.LastUsed.Before(got.Created) || got.LastUsed.Location() != time.UTC {
		t.Errorf("Record().LastUsed = %v, want UTC, not before Created %v", got.LastUsed, got.Created)
	}
	if got.ProtocolVersion != rec.ProtocolVersion || got.LogLevel != rec.LogLevel || !got.Initialized ||
		len(got.Subscriptions) != 1 || got.Subscriptions[0] != "file:///a" || got.ClientInfo != rec.ClientInfo {
		t.Errorf("Record() = %+v, want the conn's state %+v", got, rec)
	}

	bare, err := m.Create("2025-03-26", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := bare.Record(); r.ID != bare.ID() || r.ProtocolVersion != "" {
		t.Errorf("Record() of a session without conn = %+v, want only ID and times", r)
	}
}
