package redisstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"sync"
)

// IDLen is the length of a session ID: 48 lowercase hex digits, the 16
// random bytes of the ID and its 8-byte tag.
const IDLen = 48

const (
	randLen   = 16 // random bytes of an ID: one AES block
	tagLen    = 8  // bytes of the tag: the first half of the encrypted block
	secretLen = 32 // bytes of the shared secret in Redis
)

// HKDF-SHA256 infos of the keys derived from the shared secret.
const (
	infoIDKey    = "mcpfiber redisstore v1 session ID tag key"
	infoStateKey = "mcpfiber redisstore v1 requestState key"
)

// ids makes and checks session IDs with a key derived from the secret that
// every node sharing the Redis holds. An ID is hex(r) + hex(tag), with r 16
// random bytes and tag the first 8 bytes of AES-128_k(r): AES on a single
// block is a pseudo-random function, so without k a forger's chance per
// guess is 2^-64, and an ID that fails the check is refused with no I/O.
type ids struct {
	block cipher.Block
	// scratch holds *[scratchLen]byte work areas: cipher.Block.Encrypt is
	// an interface method, so slices of a stack array passed to it escape
	// to the heap; reusing pooled arrays keeps ValidID at 0 allocations.
	scratch sync.Pool
}

// A scratch area: [0:16] the random part, [16:32] its encryption,
// [32:40] the tag read from the ID.
const scratchLen = randLen + aes.BlockSize + tagLen

// deriveKeys returns the ID key (16 bytes, AES-128) and the state key (32
// bytes) derived from secret with HKDF-SHA256.
func deriveKeys(secret []byte) (idKey, stateKey []byte, err error) {
	idKey, err = hkdf.Key(sha256.New, secret, nil, infoIDKey, 16)
	if err != nil {
		return nil, nil, err
	}
	stateKey, err = hkdf.Key(sha256.New, secret, nil, infoStateKey, 32)
	if err != nil {
		return nil, nil, err
	}
	return idKey, stateKey, nil
}

func newIDs(idKey []byte) (*ids, error) {
	block, err := aes.NewCipher(idKey)
	if err != nil {
		return nil, fmt.Errorf("redisstore: ID key: %w", err)
	}
	g := &ids{block: block}
	g.scratch.New = func() any { return new([scratchLen]byte) }
	return g, nil
}

// newID returns a new ID: 16 bytes from crypto/rand and their tag, as 48
// lowercase hex digits.
func (g *ids) newID() string {
	var r [randLen]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return g.makeID(&r)
}

// makeID returns the ID of the random part r.
func (g *ids) makeID(r *[randLen]byte) string {
	p := g.scratch.Get().(*[scratchLen]byte)
	copy(p[:randLen], r[:])
	g.block.Encrypt(p[randLen:randLen+aes.BlockSize], p[:randLen])
	var s [IDLen]byte
	hex.Encode(s[:2*randLen], p[:randLen])
	hex.Encode(s[2*randLen:], p[randLen:randLen+tagLen])
	g.scratch.Put(p)
	return string(s[:])
}

// valid reports whether id is an ID that newID made with this key. It
// does no I/O, neither retains id nor allocates.
func (g *ids) valid(id string) bool {
	if len(id) != IDLen {
		return false
	}
	p := g.scratch.Get().(*[scratchLen]byte)
	ok := decodeHex(p[:randLen], id[:2*randLen]) &&
		decodeHex(p[randLen+aes.BlockSize:], id[2*randLen:])
	if ok {
		g.block.Encrypt(p[randLen:randLen+aes.BlockSize], p[:randLen])
		ok = subtle.ConstantTimeCompare(p[randLen:randLen+tagLen], p[randLen+aes.BlockSize:]) == 1
	}
	g.scratch.Put(p)
	return ok
}

// decodeHex decodes s, lowercase hex digits only, into dst (len(s) ==
// 2*len(dst)), and reports whether s was such digits.
func decodeHex(dst []byte, s string) bool {
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
