package truenas

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

// vector is one published SCRAM exchange.
type vector struct {
	h                                                  func() hash.Hash
	password, salt64                                   string
	iters                                              int
	clientFirst, serverFirst, clientFinal, serverFinal string
}

func (v vector) run(t *testing.T) {
	t.Helper()
	salt, err := base64.StdEncoding.DecodeString(v.salt64)
	if err != nil {
		t.Fatal(err)
	}
	k, err := deriveScram(v.h, v.password, string(salt), v.iters)
	if err != nil {
		t.Fatal(err)
	}
	bare := strings.TrimPrefix(v.clientFirst, "n,,")
	withoutProof, proof64, _ := strings.Cut(v.clientFinal, ",p=")
	proof, _ := base64.StdEncoding.DecodeString(proof64)
	sig, ok := scramVerify(v.h, k.StoredKey, k.ServerKey, bare+","+v.serverFirst+","+withoutProof, proof)
	if !ok {
		t.Fatal("proof refused")
	}
	if got := "v=" + base64.StdEncoding.EncodeToString(sig); got != v.serverFinal {
		t.Fatalf("server final %s, want %s", got, v.serverFinal)
	}
	proof[0] ^= 1
	if _, ok := scramVerify(v.h, k.StoredKey, k.ServerKey, bare+","+v.serverFirst+","+withoutProof, proof); ok {
		t.Fatal("a flipped proof bit was accepted")
	}
}

// RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section 3
// (SCRAM-SHA-256), checked through the fake's own key derivation and
// proof verification with the hash swapped.
func TestScramRFCVectors(t *testing.T) {
	vector{sha1.New, "pencil", "QSXCR+Q6sek8bf92", 4096,
		"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="}.run(t)
	vector{sha256.New, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096,
		"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="}.run(t)
}

// No RFC publishes a SCRAM-SHA-512 exchange. This one keeps RFC 7677's
// inputs (password "pencil", its salt, nonces and 4096 iterations) and
// swaps the hash for SHA-512; its proof and verifier were computed with
// Python's hashlib and hmac (an implementation independent of Go's) from
// RFC 5802's formulas. The StoredKey and ServerKey are pinned too: they
// are what the fake stores for a key.
func TestScramSHA512Vector(t *testing.T) {
	v := vector{sha512.New, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096,
		"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==",
		"v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="}
	v.run(t)
	salt, _ := base64.StdEncoding.DecodeString(v.salt64)
	k, err := DeriveScramKeys("pencil", string(salt), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(k.StoredKey); got != "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg==" {
		t.Errorf("StoredKey %s", got)
	}
	if got := base64.StdEncoding.EncodeToString(k.ServerKey); got != "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA==" {
		t.Errorf("ServerKey %s", got)
	}
}

// The fake's mechanism against an independent, well-kept implementation:
// xdg-go/scram's SHA-512 client, with RFC 5802's textual nonce framing,
// must have its proof accepted and accept the fake's verifier; its
// stored credentials must equal the fake's derivation.
func TestScramAgainstXdgClient(t *testing.T) {
	for _, pw := range []string{"longrunfakeapikey", "pencil", "p\u00e4ss"} {
		client, err := scram.SHA512.NewClient("admin:1", pw, "")
		if err != nil {
			t.Fatal(err)
		}
		salt := scramSalt(pw)
		k, err := DeriveScramKeys(pw, salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		sc := client.GetStoredCredentials(scram.KeyFactors{Salt: salt, Iters: 4096})
		if string(sc.StoredKey) != string(k.StoredKey) || string(sc.ServerKey) != string(k.ServerKey) {
			t.Fatalf("%q: stored credentials differ from xdg-go/scram's", pw)
		}
		conv := client.NewConversation()
		first, _ := conv.Step("")
		bare := strings.TrimPrefix(first, "n,,")
		cnonce := bare[strings.Index(bare, ",r=")+3:]
		serverFirst := "r=" + cnonce + "SERVERNONCE,s=" + base64.StdEncoding.EncodeToString([]byte(salt)) + ",i=4096"
		final, err := conv.Step(serverFirst)
		if err != nil {
			t.Fatal(err)
		}
		withoutProof, proof64, _ := strings.Cut(final, ",p=")
		proof, _ := base64.StdEncoding.DecodeString(proof64)
		sig, ok := scramVerify(sha512.New, k.StoredKey, k.ServerKey, bare+","+serverFirst+","+withoutProof, proof)
		if !ok {
			t.Fatalf("%q: xdg-go/scram's proof refused", pw)
		}
		if _, err := conv.Step("v=" + base64.StdEncoding.EncodeToString(sig)); err != nil || !conv.Valid() {
			t.Fatalf("%q: xdg-go/scram refused the fake's verifier: %v", pw, err)
		}
	}
}
