package mcp

// Protocol revisions.
const (
	Version20250326 = "2025-03-26"
	Version20250618 = "2025-06-18"
	Version20251125 = "2025-11-25"
	// Version20260728 is the first modern (stateless) revision.
	Version20260728 = "2026-07-28"
)

// LatestLegacyVersion is the newest session-based revision served.
const LatestLegacyVersion = Version20251125

// LegacyVersions are the session-based revisions served, newest first.
var LegacyVersions = []string{Version20251125, Version20250618, Version20250326}

// IsLegacyVersion reports whether v is one of [LegacyVersions]. It does not
// allocate.
func IsLegacyVersion(v string) bool {
	return v == Version20251125 || v == Version20250618 || v == Version20250326
}

// IsModernVersion reports whether a protocol version header value belongs
// to the modern (stateless) era: a date at or after 2026-07-28, or a value
// that is not a date at all, which 2026-07-28 basic/versioning treats as a
// modern client's unsupported version. It does not allocate.
func IsModernVersion(v string) bool {
	if !isDate(v) {
		return true
	}
	return v >= Version20260728
}

func isDate(v string) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i == 4 || i == 7 {
			continue
		}
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// NegotiateVersion returns the version a server answers to an initialize
// that requests requested: requested itself when served, else the latest
// served (2025-11-25 basic/lifecycle §Version Negotiation: "If the server
// supports the requested protocol version, it MUST respond with the same
// version. Otherwise, the server MUST respond with another protocol version
// it supports. This SHOULD be the latest version supported by the server.").
func NegotiateVersion(requested string) string {
	if IsLegacyVersion(requested) {
		return requested
	}
	return LatestLegacyVersion
}

// AtLeast reports whether revision v is revision min or later. Revisions
// are dates, so this is a string comparison.
func AtLeast(v, min string) bool { return v >= min }
