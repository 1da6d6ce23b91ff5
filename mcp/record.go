package mcp

import (
	"errors"
	"fmt"
	"slices"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A SessionRecord is a session of the 2025 revisions as plain data: what
// initialize negotiated (2025-11-25 basic/lifecycle §Initialization), what
// the client set since (log level, resource subscriptions), the
// transport's bookkeeping (2025-11-25 basic/transports §Session
// Management: the Mcp-Session-Id, creation and last use), and room for the
// principal the session is bound to. It is what a session store keeps
// outside the process, so that a node that did not start a session can
// rebuild it ([RestoreSessionState]); [SessionRecord.MarshalBinary] and
// [SessionRecord.UnmarshalBinary] encode it.
//
// [SessionState.Record] fills every field but ID, Created and LastUsed,
// which the transport's session map keeps (sessions.Session.Record fills
// all). A record shares ClientInfo and Principal with the state it came
// from: treat them as read-only.
type SessionRecord struct {
	// ID is the session ID, as sent in the Mcp-Session-Id header.
	ID string `json:"id"`
	// ProtocolVersion is the negotiated revision, e.g. "2025-11-25".
	ProtocolVersion string `json:"protocolVersion"`
	// ClientInfo is the client's clientInfo, or nil if it sent none.
	ClientInfo *Implementation `json:"clientInfo,omitempty"`
	// ClientCapabilities are the capabilities the client declared.
	ClientCapabilities ClientCapabilities `json:"clientCapabilities"`
	// Initialized reports whether the client sent
	// notifications/initialized.
	Initialized bool `json:"initialized,omitempty"`
	// LogLevel is the minimum level the client asked for with
	// logging/setLevel (2025-11-25 server/utilities/logging), or "" if it
	// did not.
	LogLevel LoggingLevel `json:"logLevel,omitempty"`
	// Subscriptions are the resource URIs the client subscribed to with
	// resources/subscribe, sorted; nil for none.
	Subscriptions []string `json:"subscriptions,omitempty"`
	// Created is when the session started, in UTC.
	Created time.Time `json:"created"`
	// LastUsed is when the session was last active (a request in flight
	// or received, a stream attached), in UTC; it drives idle expiry.
	LastUsed time.Time `json:"lastUsed"`
	// Principal is who the session is bound to, once the transport
	// authenticates clients; nil for none.
	Principal *Principal `json:"principal,omitempty"`
}

// A Principal is the authenticated party a session is bound to: the
// subject and issuer of the access token it was started with, and the
// token's scopes, audience and expiry (2025-11-25 basic/authorization;
// RFC 9068 §2.2 names the claims). The transport sets it on a session at
// initialize when it authenticates clients (package auth verifies the
// tokens), and hands each request the principal of the token it came
// with ([Request.Principal]).
type Principal struct {
	// Subject is the token's subject (the JWT "sub" claim).
	Subject string `json:"subject"`
	// Issuer is the authorization server that issued the token ("iss").
	Issuer string `json:"issuer"`
	// Scopes are the scopes the token grants ("scope", split on spaces).
	Scopes []string `json:"scopes,omitempty"`
	// Audience are the resources the token is for ("aud"); the MCP server's
	// canonical URI among them (RFC 8707).
	Audience []string `json:"audience,omitempty"`
	// Expiry is when the token expires ("exp"), in UTC; zero if never.
	Expiry time.Time `json:"expiry"`
	// Claims are all of the token's claims as a JSON object: the JWT's
	// payload, or the introspection response (RFC 7662 §2.2); nil if the
	// verifier has none. Handlers decode what they need.
	Claims json.RawMessage `json:"claims,omitempty"`
}

// RecordVersion is the version of the encoding written by
// [SessionRecord.MarshalBinary]; UnmarshalBinary accepts it only.
const RecordVersion = 1

// recordWire is the encoding: the record's members and "v", the version.
type recordWire struct {
	V int `json:"v"`
	SessionRecord
}

// MarshalBinary encodes r as a JSON object: "v" (RecordVersion), then the
// record's members by their JSON names, times as RFC 3339 strings
// (nanosecond precision). It implements encoding.BinaryMarshaler and
// fails only if a capability holds invalid JSON.
func (r *SessionRecord) MarshalBinary() ([]byte, error) {
	return jsonrpc.Marshal(&recordWire{V: RecordVersion, SessionRecord: *r})
}

// ErrRecordVersion is returned (wrapped) by [SessionRecord.UnmarshalBinary]
// for an encoding of another version than [RecordVersion], or of none.
var ErrRecordVersion = errors.New("mcp: session record of an unknown version")

// UnmarshalBinary decodes what [SessionRecord.MarshalBinary] wrote into r,
// replacing its contents. Member names match exactly and may not repeat
// ([jsonrpc.Unmarshal]); unknown members are ignored. It fails with
// [ErrRecordVersion] when "v" is not RecordVersion, and when LogLevel is
// not a level. It implements encoding.BinaryUnmarshaler.
func (r *SessionRecord) UnmarshalBinary(data []byte) error {
	var w recordWire
	if err := jsonrpc.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("mcp: session record: %w", err)
	}
	if w.V != RecordVersion {
		return fmt.Errorf("%w: v %d, want %d", ErrRecordVersion, w.V, RecordVersion)
	}
	if w.LogLevel != "" && w.LogLevel.severity() == 0 {
		return fmt.Errorf("mcp: session record: logLevel %q is not a level", w.LogLevel)
	}
	*r = w.SessionRecord
	return nil
}

// Record returns a snapshot of the session as plain data: every field of
// [SessionRecord] but ID, Created and LastUsed, which the transport keeps
// (they are zero here). Later changes to st do not show in it.
func (st *SessionState) Record() SessionRecord {
	r := SessionRecord{
		ProtocolVersion:    st.ProtocolVersion,
		ClientInfo:         st.ClientInfo,
		ClientCapabilities: st.ClientCapabilities,
		Initialized:        st.initialized.Load(),
		LogLevel:           levelOf(st.logLevel.Load()),
		Principal:          st.principal,
	}
	st.mu.Lock()
	if len(st.subs) > 0 {
		r.Subscriptions = make([]string, 0, len(st.subs))
		for uri := range st.subs {
			r.Subscriptions = append(r.Subscriptions, uri)
		}
	}
	st.mu.Unlock()
	slices.Sort(r.Subscriptions)
	return r
}

// RestoreSessionState returns the state of a session described by r, as
// [NewSessionState] does for a new one, with r's initialized flag, log
// level, subscriptions and principal; an unknown LogLevel counts as none.
// ID, Created and LastUsed are the transport's to restore. It is for a
// session store: a [Backend] that rebuilds a session's [Conn] from its
// record makes the state with it.
func RestoreSessionState(r *SessionRecord) *SessionState {
	st := NewSessionState(r.ProtocolVersion, r.ClientInfo, r.ClientCapabilities)
	st.initialized.Store(r.Initialized)
	st.logLevel.Store(r.LogLevel.severity())
	st.principal = r.Principal
	for _, uri := range r.Subscriptions {
		st.subscribe(uri)
	}
	st.revision.Store(0)
	st.announced.Store(0)
	return st
}
