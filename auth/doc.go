// Package auth makes an MCP server an OAuth 2.1 resource server
// (2025-11-25 basic/authorization): it verifies bearer access tokens and
// describes the server to clients. The transport (transport.Options.Auth)
// calls it on every request before anything else.
//
// # Overview
//
//	Authorization: Bearer … ─▶ ParseBearer ─▶ Cache ─hit─▶ *mcp.Principal
//	                                            │miss
//	                                            ▼
//	                                  Chain ─ JWT-shaped ─▶ JWT (JWKS from the issuer's metadata)
//	                                        └ opaque ─────▶ Introspection (RFC 7662)
//
// A [Verifier] turns a token into an [mcp.Principal] (issuer, subject,
// scopes, audience, expiry, claims) or fails with [ErrInvalidToken]. The
// built-ins are [JWT] (RFC 9068 JWT access tokens, keys from the issuer's
// JSON Web Key Set) and [Introspection] (opaque tokens, RFC 7662); any
// other can be plugged in. [Config] assembles them as the mcpfiber flags
// describe, behind a [Cache].
//
// # Libraries
//
// Signatures are checked by github.com/golang-jwt/jwt/v5, key sets are
// fetched, cached and refreshed by github.com/MicahParks/keyfunc/v3 (on
// github.com/MicahParks/jwkset): refetched on an unknown kid (key
// rotation) at most once per [JWTOptions].RefetchInterval, without
// blocking the request that found it. They were picked over
// lestrrat-go/jwx v3 by fit and cost: golang-jwt parses and verifies an
// RS256 token with about a quarter of jwx's allocations (lestrrat-go/jwx
// PR #1407), keyfunc's unknown-kid refetch is exactly the rotation
// behaviour wanted, and the pair is what gofiber/contrib/jwt builds on.
// go-oidc was not used: it checks aud against a client ID, which fits ID
// tokens, not access tokens. This package writes no cryptography.
//
// # Cost
//
// The first request with a token pays for its verification (a signature
// check; an HTTP round trip for introspection); the [Cache] then serves
// it, keyed by a hash of the token and checked against the token
// itself, until min(expiry, TTL), without allocating. Failures are not
// cached. bench/RESULTS.md has the figures.
//
// # Metadata
//
// [ResourceMetadata] is the Protected Resource Metadata (RFC 9728) the
// transport serves at /.well-known/oauth-protected-resource[/path];
// [AppendChallenge] builds the WWW-Authenticate challenges that point to
// it, with error="invalid_token" or error="insufficient_scope" and every
// needed scope (SEP-2350). [Discover] reads an authorization server's
// metadata (RFC 8414, falling back to OpenID Connect Discovery). Issuer,
// key set and introspection URLs must be https, or http on a loopback
// host.
package auth
