package mcp_test

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// An outbox is an mcp.Outbound (and mcp.HereSender) that keeps what is
// sent, marking what went through SendHere.
type outbox struct {
	mu   sync.Mutex
	msgs []string
}

func (o *outbox) Send(msg []byte) error { return o.add("send " + string(msg)) }

func (o *outbox) SendHere(msg []byte) error { return o.add("here " + string(msg)) }

func (o *outbox) add(s string) error {
	o.mu.Lock()
	o.msgs = append(o.msgs, s)
	o.mu.Unlock()
	return nil
}

func (o *outbox) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.msgs)
}

// TestNotifyOne checks Server.NotifyOne, the delivery of a broadcast to
// one session: the filters of NotifyAll (initialized, log level,
// resource subscriptions), through SendHere, to that session only.
func TestNotifyOne(t *testing.T) {
	srv := mcp.NewServer(mcp.Implementation{Name: "t", Version: "0"}, nil)
	st := mcp.NewSessionState(mcp.Version20251125, &mcp.Implementation{Name: "c", Version: "0"}, mcp.ClientCapabilities{})
	var out outbox
	st.SetOutbound(&out)
	logWarn := json.RawMessage(`{"level":"warning","data":{"seq":1}}`)
	srv.NotifyOne(st, mcp.NotificationMessage, logWarn)
	if got := out.get(); len(got) != 0 {
		t.Fatalf("NotifyOne before initialized sent %q", got)
	}
	st.Apply(&mcp.SessionRecord{Initialized: true, LogLevel: mcp.LevelError, Subscriptions: []string{"test://a"}})
	srv.NotifyOne(st, mcp.NotificationMessage, logWarn) // below the level
	srv.NotifyOne(st, mcp.NotificationMessage, json.RawMessage(`{"level":"critical","data":{"seq":2}}`))
	srv.NotifyOne(st, mcp.NotificationMessage, json.RawMessage(`{"level":"nope"}`))
	srv.NotifyOne(st, mcp.NotificationToolsListChanged, nil)
	srv.NotifyOne(st, mcp.NotificationResourcesUpdated, json.RawMessage(`{"uri":"test://b"}`)) // not subscribed
	srv.NotifyOne(st, mcp.NotificationResourcesUpdated, json.RawMessage(`{"uri":"test://a"}`))
	srv.NotifyOne(st, "notifications/other", nil)
	want := []string{
		`here {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"critical","data":{"seq":2}}}`,
		`here {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
		`here {"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://a"}}`,
	}
	if got := out.get(); !slices.Equal(got, want) {
		t.Errorf("NotifyOne sent\n%q\nwant\n%q", got, want)
	}
}

// TestOnNotifyAllSelf: with OnNotifyAllSelf, LogAll and ResourceUpdated
// still go to OnNotifyAll (which brings them back to this process
// through NotifyAll, in the log's order).
func TestOnNotifyAllSelf(t *testing.T) {
	var mu sync.Mutex
	var raised []string
	srv := mcp.NewServer(mcp.Implementation{Name: "t", Version: "0"}, &mcp.ServerOptions{
		OnNotifyAllSelf: true,
		OnNotifyAll: func(method string, _ json.RawMessage) {
			mu.Lock()
			raised = append(raised, method)
			mu.Unlock()
		},
	})
	if err := srv.LogAll(mcp.LevelInfo, "x", 1); err != nil {
		t.Fatal(err)
	}
	srv.ResourceUpdated("test://a")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{mcp.NotificationMessage, mcp.NotificationResourcesUpdated}; !slices.Equal(raised, want) {
		t.Errorf("OnNotifyAll got %q, want %q", raised, want)
	}
}
