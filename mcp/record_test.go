package mcp

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// fullRecord returns a record with every field set.
func fullRecord() SessionRecord {
	return SessionRecord{
		ID:              "0123456789abcdef0123456789abcdef",
		ProtocolVersion: Version20251125,
		ClientInfo:      &Implementation{Name: "client", Title: "Client", Version: "1.2.3", WebsiteURL: "https://example.com"},
		ClientCapabilities: ClientCapabilities{
			Roots:        json.RawMessage(`{"listChanged":true}`),
			Sampling:     json.RawMessage(`{"tools":{}}`),
			Elicitation:  json.RawMessage(`{"form":{},"url":{}}`),
			Experimental: json.RawMessage(`{"x":1}`),
			Extensions:   json.RawMessage(`{"io.example/ext":{}}`),
			Tasks:        json.RawMessage(`{"list":{}}`),
		},
		Initialized:   true,
		LogLevel:      LevelWarning,
		Subscriptions: []string{"file:///a.txt", "file:///b.txt"},
		Created:       time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		LastUsed:      time.Date(2026, 1, 2, 3, 9, 5, 7, time.UTC),
		Principal: &Principal{
			Subject:  "user-42",
			Issuer:   "https://auth.example.com",
			Scopes:   []string{"mcp:tools", "mcp:resources"},
			Audience: []string{"https://mcp.example.com/mcp"},
			Expiry:   time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC),
		},
	}
}

// TestSessionRecordRoundTrip checks that a record with every field set
// survives MarshalBinary and UnmarshalBinary, and that the encoding is
// versioned and uses RFC 3339 times.
func TestSessionRecordRoundTrip(t *testing.T) {
	want := fullRecord()
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullRecord leaves %s unset: the round trip would not cover it", v.Type().Field(i).Name)
		}
	}
	b, err := want.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	for _, sub := range []string{`{"v":1,`, `"created":"2026-01-02T03:04:05.000000006Z"`, `"expiry":"2026-01-02T04:04:05Z"`} {
		if !bytes.Contains(b, []byte(sub)) {
			t.Errorf("MarshalBinary() = %s, want it to contain %s", b, sub)
		}
	}
	var got SessionRecord
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary(%s): %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnmarshalBinary(MarshalBinary(r)) =\n%+v\nwant\n%+v", got, want)
	}
}

// TestSessionRecordUnmarshalInvalid checks what UnmarshalBinary refuses,
// and that it leaves the record alone then.
func TestSessionRecordUnmarshalInvalid(t *testing.T) {
	for _, tc := range []struct {
		in      string
		version bool // ErrRecordVersion
	}{
		{`{"id":"a","protocolVersion":"2025-11-25"}`, true},
		{`{"v":2,"id":"a"}`, true},
		{`{"v":0}`, true},
		{`{"v":1,"logLevel":"loud"}`, false},
		{`{"v":1,"id":"a","id":"b"}`, false},
		{`{"v":1,"created":"yesterday"}`, false},
		{`{"v":1,"subscriptions":"file:///a"}`, false},
		{`[1]`, false},
		{``, false},
	} {
		r := fullRecord()
		err := r.UnmarshalBinary([]byte(tc.in))
		if err == nil {
			t.Errorf("UnmarshalBinary(%s) = nil, want an error", tc.in)
			continue
		}
		if got := errors.Is(err, ErrRecordVersion); got != tc.version {
			t.Errorf("UnmarshalBinary(%s) = %v; errors.Is ErrRecordVersion = %v, want %v", tc.in, err, got, tc.version)
		}
		if !reflect.DeepEqual(r, fullRecord()) {
			t.Errorf("UnmarshalBinary(%s) failed but changed the record to %+v", tc.in, r)
		}
	}
}

// TestSessionStateRecord checks that RestoreSessionState and
// SessionState.Record round-trip the method layer's fields, and that
// Record reflects what the client set.
func TestSessionStateRecord(t *testing.T) {
	want := fullRecord()
	want.ID, want.Created, want.LastUsed = "", time.Time{}, time.Time{} // the transport's
	st := RestoreSessionState(&want)
	if got := st.Record(); !reflect.DeepEqual(got, want) {
		t.Errorf("RestoreSessionState(r).Record() =\n%+v\nwant\n%+v", got, want)
	}
	if st.Principal() != want.Principal || !st.Initialized() || st.wants(LevelNotice) || !st.wants(LevelWarning) || !st.subscribed("file:///b.txt") {
		t.Errorf("restored state: principal %v, initialized %v, wants notice %v, warning %v; want the record's",
			st.Principal(), st.Initialized(), st.wants(LevelNotice), st.wants(LevelWarning))
	}

	fresh := NewSessionState(Version20250618, nil, ClientCapabilities{})
	if got := fresh.Record(); !reflect.DeepEqual(got, SessionRecord{ProtocolVersion: Version20250618}) {
		t.Errorf("NewSessionState(...).Record() = %+v, want only the version", got)
	}
	fresh.subscribe("z")
	fresh.subscribe("a")
	fresh.logLevel.Store(LevelDebug.severity())
	if got := fresh.Record(); got.LogLevel != LevelDebug || !reflect.DeepEqual(got.Subscriptions, []string{"a", "z"}) {
		t.Errorf("Record() = level %q subscriptions %q, want debug [a z]", got.LogLevel, got.Subscriptions)
	}
}

// FuzzSessionRecordUnmarshal checks that UnmarshalBinary does not panic
// on any input and that what it accepts encodes to a fixed point: encode,
// decode and encode again give the same bytes.
func FuzzSessionRecordUnmarshal(f *testing.F) {
	full := fullRecord()
	b, err := full.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"id":"x","created":"2026-01-02T03:04:05+02:00","principal":{"subject":"s"}}`))
	f.Add([]byte(`{"v":1,"clientCapabilities":{"roots":null},"subscriptions":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r SessionRecord
		if r.UnmarshalBinary(data) != nil {
			return
		}
		b1, err := r.MarshalBinary()
		if err != nil {
			if strings.Contains(err.Error(), "year outside of range") {
				return // time.Time's own MarshalJSON limit
			}
			t.Fatalf("MarshalBinary of a decoded record (%s): %v", data, err)
		}
		var r2 SessionRecord
		if err := r2.UnmarshalBinary(b1); err != nil {
			t.Fatalf("UnmarshalBinary(%s), from MarshalBinary: %v", b1, err)
		}
		b2, err := r2.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not a fixed point:\n%s\n%s", b1, b2)
		}
	})
}
