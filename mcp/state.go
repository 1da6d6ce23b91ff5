package mcp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// A sealer seals the requestState of 2026-07-28 input-required results
// with AES-256-GCM, so that a client can neither read nor alter it
// (2026-07-28 basic/patterns/mrtr: "servers MUST treat requestState as an
// attacker-controlled input … MUST protect its integrity (e.g. HMAC or
// AEAD) and MUST reject state that fails verification").
//
// A sealed state is base64url (no padding) of
//
//	nonce (12 bytes) ‖ AES-GCM(key, nonce, plaintext, aad)
//	plaintext = expiry (8 bytes, Unix seconds, big-endian) ‖ state
//
// where the additional data binds it to the request it was issued for
// (method and tool or prompt name, or resource URI): a state is accepted
// only by the same request, before it expires.
type sealer struct {
	aead cipher.AEAD
	ttl  time.Duration
	now  func() time.Time
}

// StateKeySize is the length of ServerOptions.StateKey.
const StateKeySize = 32

// newSealer returns a sealer with key (a random one when key is empty).
func newSealer(key []byte, ttl time.Duration) (*sealer, error) {
	if len(key) == 0 {
		key = make([]byte, StateKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) != StateKeySize {
		return nil, fmt.Errorf("want %d bytes, got %d", StateKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, ttl: ttl, now: time.Now}, nil
}

const stateAADPrefix = "mcpfiber requestState v1\x00"

// seal returns state sealed for the request bind.
func (s *sealer) seal(bind, state string) string {
	ns := s.aead.NonceSize()
	buf := make([]byte, ns, ns+8+len(state)+s.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		panic("mcp: crypto/rand: " + err.Error()) // rand.Read does not fail on supported platforms
	}
	plain := make([]byte, 8, 8+len(state))
	binary.BigEndian.PutUint64(plain, uint64(s.now().Add(s.ttl).Unix()))
	plain = append(plain, state...)
	out := s.aead.Seal(buf, buf[:ns], plain, []byte(stateAADPrefix+bind))
	return base64.RawURLEncoding.EncodeToString(out)
}

// Errors of open, sent to the client as invalid params.
var (
	errStateInvalid = errors.New("not a requestState this server issued for this request (tampered, or for another request)")
	errStateExpired = errors.New("expired; start the request again without requestState")
)

// open returns the state sealed in sealed, if it was sealed by this key
// for the request bind and has not expired.
func (s *sealer) open(bind, sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < ns+8+s.aead.Overhead() {
		return "", errStateInvalid
	}
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(stateAADPrefix+bind))
	if err != nil {
		return "", errStateInvalid
	}
	exp := int64(binary.BigEndian.Uint64(plain))
	if s.now().Unix() > exp {
		return "", errStateExpired
	}
	return string(plain[8:]), nil
}
