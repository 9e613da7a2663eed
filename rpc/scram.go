package rpc

// SCRAM-SHA-512 as the TrueNAS middleware speaks it (auth.login_ex
// mechanism SCRAM; truenas_scram, mirrored by truenas_api_client's
// py_scram). The mathematics are RFC 5802's: SaltedPassword =
// PBKDF2-HMAC(key material, salt, i), ClientKey = HMAC(SaltedPassword,
// "Client Key"), StoredKey = H(ClientKey), ServerKey =
// HMAC(SaltedPassword, "Server Key"), AuthMessage = client-first-bare ","
// server-first "," client-final-without-proof, ClientProof = ClientKey XOR
// HMAC(StoredKey, AuthMessage), ServerSignature = HMAC(ServerKey,
// AuthMessage). The framing is not: the client nonce is the base64 of 32
// random bytes and the server's is the base64 of the client's bytes
// followed by its own 32, so it does not begin with the client's nonce
// text as RFC 5802 requires, and RFC clients (xdg-go/scram among them)
// refuse the server-first message. The client here accepts a server
// nonce that extends the client's either as text (RFC 5802) or as bytes
// (the middleware), so the RFC 5802 and 7677 test vectors run through
// the same code as a TrueNAS login.

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// scramNonceSize is the middleware's nonce size in bytes (SCRAM_NONCE_SIZE).
const scramNonceSize = 32

// scramClient is one SCRAM client conversation.
type scramClient struct {
	h              func() hash.Hash
	name, password string
	minIter        int
	maxIter        int
	gs2            string // "n,," or "p=tls-server-end-point,,"
	cbData         []byte // channel-binding data for a "p=" header
	nonce          string // the client nonce as sent

	clientFirstBare string
	authMessage     string
	serverKey       []byte
	cache           *scramKeys // derived keys kept across logins, or nil
}

// scramKeys are the keys derived from a secret for one salt and
// iteration count: a reconnect logs in again without PBKDF2's cost
// (500,000 iterations of SHA-512 on TrueNAS).
type scramKeys struct {
	mu                   sync.Mutex
	salt                 string
	iters                int
	clientKey, serverKey []byte
}

// newSCRAM starts a SCRAM-SHA-512 conversation for the middleware, bound
// to the TLS server certificate when there is one.
func newSCRAM(name, password string, cb []byte) (*scramClient, error) {
	var raw [scramNonceSize]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	s := &scramClient{h: sha512.New, name: name, password: password,
		minIter: SCRAMMinIterations, maxIter: SCRAMMaxIterations,
		gs2: "n,,", nonce: base64.StdEncoding.EncodeToString(raw[:])}
	if cb != nil {
		s.gs2, s.cbData = "p=tls-server-end-point,,", cb
	}
	return s, nil
}

// saslName escapes a user name for n= (RFC 5802 5.1).
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// first is the client-first message.
func (s *scramClient) first() string {
	s.clientFirstBare = "n=" + saslName(s.name) + ",r=" + s.nonce
	return s.gs2 + s.clientFirstBare
}

func scramAttr(msg, key string) (string, bool) {
	for _, a := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(a, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// extends reports whether the server nonce r extends the client's nonce,
// as text (RFC 5802) or as the bytes the base64 stands for (TrueNAS).
func (s *scramClient) extends(r string) bool {
	if len(r) > len(s.nonce) && strings.HasPrefix(r, s.nonce) {
		return true
	}
	cn, err1 := base64.StdEncoding.DecodeString(s.nonce)
	sn, err2 := base64.StdEncoding.DecodeString(r)
	return err1 == nil && err2 == nil && len(sn) > len(cn) && subtle.ConstantTimeCompare(sn[:len(cn)], cn) == 1
}

// final answers the server-first message with the client-final message.
func (s *scramClient) final(serverFirst string) (string, error) {
	if strings.HasPrefix(serverFirst, "m=") {
		return "", errors.New("SCRAM: server requires an unknown extension")
	}
	r, ok1 := scramAttr(serverFirst, "r")
	salt64, ok2 := scramAttr(serverFirst, "s")
	iters, ok3 := scramAttr(serverFirst, "i")
	if !ok1 || !ok2 || !ok3 {
		return "", errors.New("SCRAM: malformed server-first message")
	}
	if !s.extends(r) {
		return "", errors.New("SCRAM: server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return "", errors.New("SCRAM: bad salt")
	}
	n, err := strconv.Atoi(iters)
	if err != nil || n < s.minIter || n > s.maxIter {
		return "", fmt.Errorf("SCRAM: iteration count %q outside [%d, %d]", iters, s.minIter, s.maxIter)
	}
	clientKey, serverKey, err := s.keys(salt, n)
	if err != nil {
		return "", err
	}
	hh := s.h()
	hh.Write(clientKey)
	storedKey := hh.Sum(nil)
	s.serverKey = serverKey
	withoutProof := "c=" + base64.StdEncoding.EncodeToString(append([]byte(s.gs2), s.cbData...)) + ",r=" + r
	s.authMessage = s.clientFirstBare + "," + serverFirst + "," + withoutProof
	proof := s.hmac(storedKey, s.authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

// verify checks the server-final message: the server proves it holds the
// ServerKey.
func (s *scramClient) verify(serverFinal string) error {
	if e, ok := scramAttr(serverFinal, "e"); ok {
		return errors.New("SCRAM: server error " + e)
	}
	v, ok := scramAttr(serverFinal, "v")
	if !ok || s.serverKey == nil {
		return errors.New("SCRAM: malformed server-final message")
	}
	got, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !hmac.Equal(got, s.hmac(s.serverKey, s.authMessage)) {
		return errors.New("SCRAM: server signature did not verify")
	}
	return nil
}

// keys derives ClientKey and ServerKey, or takes them from the cache.
func (s *scramClient) keys(salt []byte, iters int) (clientKey, serverKey []byte, err error) {
	if c := s.cache; c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.salt == string(salt) && c.iters == iters && c.clientKey != nil {
			return c.clientKey, c.serverKey, nil
		}
	}
	salted, err := pbkdf2.Key(s.h, s.password, salt, iters, s.h().Size())
	if err != nil {
		return nil, nil, fmt.Errorf("SCRAM: %w", err)
	}
	clientKey, serverKey = s.hmac(salted, "Client Key"), s.hmac(salted, "Server Key")
	if c := s.cache; c != nil {
		c.salt, c.iters, c.clientKey, c.serverKey = string(salt), iters, clientKey, serverKey
	}
	return clientKey, serverKey, nil
}

func (s *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tlsServerEndPoint is RFC 5929's tls-server-end-point channel binding:
// the hash of the server certificate (SHA-256 for MD5 and SHA-1
// signatures, else the signature's own hash), nil without TLS.
func tlsServerEndPoint(st *tls.ConnectionState) []byte {
	if st == nil || len(st.PeerCertificates) == 0 {
		return nil
	}
	cert := st.PeerCertificates[0]
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = sha512.New()
	case x509.PureEd25519:
		return nil // RFC 5929 defines no hash for it
	default:
		h = sha256.New()
	}
	h.Write(cert.Raw)
	return h.Sum(nil)
}
