package truenas

// SCRAM-SHA-512 API-key login (TrueNAS 26.0 and later), as
// plugins/auth.py login_ex and utils/crypto.py generate_api_key_auth_data
// do it:
//
//	-> auth.login_ex({"mechanism": "SCRAM", "scram_type": "CLIENT_FIRST_MESSAGE",
//	                  "rfc_str": "n,,n=<user>:<api key id>,r=<client nonce>"})
//	<- {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE",
//	    "rfc_str": "r=<nonce>,s=<base64 salt>,i=<iterations>", "user_info": null}
//	-> auth.login_ex({"mechanism": "SCRAM", "scram_type": "CLIENT_FINAL_MESSAGE",
//	                  "rfc_str": "c=biws,r=<nonce>,p=<proof>"})
//	<- {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FINAL_RESPONSE",
//	    "rfc_str": "v=<server signature>", "user_info": {...}}
//
// An unknown user or key, a bad proof or a channel-bound request over a
// connection the fake cannot bind answers {"response_type": "AUTH_ERR"}.
// A final message without a first one is CallError "SCRAM authentication
// is not in progress".
//
// The stored credential of an API key "<id>-<material>" is derived as the
// middleware derives it: SaltedPassword = PBKDF2-HMAC-SHA512(material,
// salt, iterations) with a 16-character salt and 500000 iterations;
// ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey =
// SHA512(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key").
// The exchange itself is github.com/xdg-go/scram's server conversation.

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha512"
	"errors"
	"strings"
	"sync"

	"github.com/xdg-go/scram"

	"github.com/longrun/longrun/fake/sim"
)

// DefaultScramIterations is the middleware's PBKDF2 iteration count for
// API keys.
const DefaultScramIterations = 500000

// scramCred is the derived SCRAM credential of one API key.
type scramCred struct {
	once  sync.Once
	salt  string
	iters int
	cred  scram.StoredCredentials
	err   error
}

// scramLogin is an API-key SCRAM exchange in progress on a session.
type scramLogin struct {
	conv *scram.ServerConversation
	user sim.User
}

// ScramKeys are an API key's SCRAM data as api_key.create answers them
// (base64 in the real answer; raw bytes here).
type ScramKeys struct {
	Salt       string
	Iterations int
	ClientKey  []byte
	StoredKey  []byte
	ServerKey  []byte
}

// DeriveScramKeys derives an API key's SCRAM-SHA-512 data as
// generate_api_key_auth_data does: material is the part of the raw key
// after "<id>-".
func DeriveScramKeys(material, salt string, iterations int) (ScramKeys, error) {
	salted, err := pbkdf2.Key(sha512.New, material, []byte(salt), iterations, sha512.Size)
	if err != nil {
		return ScramKeys{}, err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha512.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	client := mac(salted, "Client Key")
	stored := sha512.Sum512(client)
	return ScramKeys{Salt: salt, Iterations: iterations, ClientKey: client, StoredKey: stored[:],
		ServerKey: mac(salted, "Server Key")}, nil
}

// scramSalt is the 16-character salt the fake gives an API key: fixed
// per key, so a client's precomputed keys stay valid across restarts.
func scramSalt(key string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./"
	h := sha512.Sum512([]byte("longrun-fake-scram-salt:" + key))
	var b [16]byte
	for i := range b {
		b[i] = alphabet[int(h[i])%len(alphabet)]
	}
	return string(b[:])
}

// ScramKeysFor returns the SCRAM data of a user's API key as the fake
// stores it (what api_key.convert_raw_key would answer), for clients that
// log in with precomputed keys.
func (b *Backend) ScramKeysFor(apiKey string) (ScramKeys, error) {
	c, err := b.scramCredFor(apiKey)
	if err != nil {
		return ScramKeys{}, err
	}
	_, material, _ := strings.Cut(apiKey, "-")
	return DeriveScramKeys(material, c.salt, c.iters)
}

func (b *Backend) scramCredFor(apiKey string) (*scramCred, error) {
	b.mu.Lock()
	c := b.scramKey[apiKey]
	if c == nil {
		c = &scramCred{salt: scramSalt(apiKey), iters: b.scramIt}
		b.scramKey[apiKey] = c
	}
	b.mu.Unlock()
	c.once.Do(func() {
		_, material, ok := strings.Cut(apiKey, "-")
		if !ok {
			c.err = errors.New("truenas fake: API key without an id")
			return
		}
		k, err := DeriveScramKeys(material, c.salt, c.iters)
		if err != nil {
			c.err = err
			return
		}
		c.cred = scram.StoredCredentials{KeyFactors: scram.KeyFactors{Salt: c.salt, Iters: c.iters},
			StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	})
	return c, c.err
}

// scramLookup finds the credential of a SCRAM user name "<user>:<key id>".
func (b *Backend) scramLookup(found *sim.User) scram.CredentialLookup {
	return func(name string) (scram.StoredCredentials, error) {
		user, id, ok := cutLast(name, ":")
		if !ok || id == "" {
			return scram.StoredCredentials{}, errors.New("no api key id")
		}
		u, ok := b.env.Lookup(func(u sim.User) bool {
			return u.Name == user && u.APIKey != "" && strings.HasPrefix(u.APIKey, id+"-")
		})
		if !ok {
			return scram.StoredCredentials{}, errors.New("unknown key")
		}
		c, err := b.scramCredFor(u.APIKey)
		if err != nil {
			return scram.StoredCredentials{}, err
		}
		*found = u
		return c.cred, nil
	}
}

// scramStep runs one SCRAM message of auth.login_ex.
func (b *Backend) scramStep(s *Session, scramType, rfc string) (any, error) {
	authErr := map[string]any{"response_type": "AUTH_ERR"}
	switch scramType {
	case "CLIENT_FIRST_MESSAGE":
		l := &scramLogin{}
		srv, err := scram.SHA512.NewServer(b.scramLookup(&l.user))
		if err != nil {
			return nil, err
		}
		// No channel binding: the fake cannot read its own certificate
		// from the connection, so a bound request ("p=...") fails as a
		// bound request over plain ws:// does on the real server.
		l.conv = srv.NewConversation()
		s.mu.Lock()
		s.scram = nil
		s.mu.Unlock()
		if strings.HasPrefix(rfc, "p") {
			return authErr, nil
		}
		out, err := l.conv.Step(rfc)
		if err != nil {
			return authErr, nil
		}
		s.mu.Lock()
		s.scram = l
		s.mu.Unlock()
		return map[string]any{"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE",
			"rfc_str": out, "user_info": nil}, nil
	case "CLIENT_FINAL_MESSAGE":
		s.mu.Lock()
		l := s.scram
		s.scram = nil
		s.mu.Unlock()
		if l == nil {
			return nil, &CallError{Message: "SCRAM authentication is not in progress"}
		}
		out, err := l.conv.Step(rfc)
		if err != nil || !l.conv.Valid() {
			return authErr, nil
		}
		c := apiKeyCred(l.user)
		s.login(c)
		return map[string]any{"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FINAL_RESPONSE",
			"rfc_str": out, "user_info": b.userInfo(c)}, nil
	}
	return nil, &ValidationError{Attribute: "auth.login_ex.login_data.SCRAM.scram_type",
		Message: "Input should be 'CLIENT_FIRST_MESSAGE' or 'CLIENT_FINAL_MESSAGE'"}
}
