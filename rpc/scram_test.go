package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/xdg-go/scram"

	"github.com/longrun/longrun/jobs"
)

// The RFC test vectors, run through the same conversation code the
// SCRAM-SHA-512 login uses.
func TestSCRAMVectors(t *testing.T) {
	for _, v := range []struct {
		name                                                      string
		hash                                                      scram.HashGeneratorFcn
		nonce, clientFirst, serverFirst, clientFinal, serverFinal string
	}{
		{
			name: "RFC 5802 SCRAM-SHA-1", hash: scram.SHA1, nonce: "fyko+d2lbbFgONRv9qkxdawL",
			clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			name: "RFC 7677 SCRAM-SHA-256", hash: scram.SHA256, nonce: "rOprNGfwEbeRWgbNEkqO",
			clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	} {
		t.Run(v.name, func(t *testing.T) {
			conv, err := scramConversation(v.hash, scramName("user", 0), "pencil", 4096, func() string { return v.nonce }, nil)
			if err != nil {
				t.Fatal(err)
			}
			first, err := conv.Step("")
			if err != nil || first != v.clientFirst {
				t.Fatalf("client-first %q %v", first, err)
			}
			final, err := conv.Step(v.serverFirst)
			if err != nil || final != v.clientFinal {
				t.Fatalf("client-final %q %v", final, err)
			}
			if _, err := conv.Step(v.serverFinal); err != nil || !conv.Valid() {
				t.Fatalf("server-final refused: %v", err)
			}
			// A forged server signature must not verify.
			conv, _ = scramConversation(v.hash, "user", "pencil", 4096, func() string { return v.nonce }, nil)
			conv.Step("")
			conv.Step(v.serverFirst)
			if _, err := conv.Step("v=AAAA" + v.serverFinal[6:]); err == nil && conv.Valid() {
				t.Fatal("forged server signature accepted")
			}
		})
	}
	if scramName("admin", 7) != "admin:7" {
		t.Fatal(scramName("admin", 7))
	}
	if err := checkIterations("r=x,s=c2FsdA==,i=4096"); err == nil {
		t.Fatal("4096 iterations accepted for SCRAM-SHA-512")
	}
}

// scramServer is a JSON-RPC middleware stand-in that speaks only the
// auth.mechanism_choices / auth.login_ex SCRAM exchange the middleware
// documents (AuthSCRAM, AuthRespScram), with xdg-go/scram's server.
type scramServer struct {
	mu       sync.Mutex
	users    map[string]string // SCRAM name ("admin:1") -> key material
	choices  []string
	forge    bool // send a wrong server signature
	seen     []map[string]any
	loggedIn bool
	logout   bool
}

func (s *scramServer) serve(t *testing.T) string {
	srv := scram.SHA512.NewServer
	lookup := func(name string) (scram.StoredCredentials, error) {
		s.mu.Lock()
		key, ok := s.users[name]
		s.mu.Unlock()
		if !ok {
			return scram.StoredCredentials{}, errors.New("unknown user")
		}
		cl, _ := scram.SHA512.NewClient(name, key, "")
		return cl.GetStoredCredentials(scram.KeyFactors{Salt: "salt-of-" + name, Iters: SCRAMMinIterations}), nil
	}
	server, err := srv(lookup)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var conv *scram.ServerConversation
		for {
			var req struct {
				ID     int64             `json:"id"`
				Method string            `json:"method"`
				Params []json.RawMessage `json:"params"`
			}
			if ws.ReadJSON(&req) != nil {
				return
			}
			res := any(nil)
			switch req.Method {
			case "core.set_options":
				res = map[string]any{"legacy_jobs": false}
			case "auth.mechanism_choices":
				s.mu.Lock()
				res = s.choices
				s.mu.Unlock()
			case "auth.logout":
				s.mu.Lock()
				s.logout, s.loggedIn = true, false
				s.mu.Unlock()
				res = true
			case "auth.login_ex":
				var data map[string]any
				_ = json.Unmarshal(req.Params[0], &data)
				s.mu.Lock()
				s.seen = append(s.seen, data)
				s.mu.Unlock()
				switch data["scram_type"] {
				case "CLIENT_FIRST_MESSAGE":
					conv = server.NewConversation()
					out, err := conv.Step(data["rfc_str"].(string))
					if err != nil {
						res = map[string]any{"response_type": "AUTH_ERR"}
						break
					}
					res = map[string]any{"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE", "rfc_str": out, "user_info": nil}
				case "CLIENT_FINAL_MESSAGE":
					out, err := conv.Step(data["rfc_str"].(string))
					if err != nil || !conv.Valid() {
						res = map[string]any{"response_type": "AUTH_ERR"}
						break
					}
					s.mu.Lock()
					forge := s.forge
					s.mu.Unlock()
					if forge {
						out = "v=" + strings.Repeat("A", 86) + "=="
					}
					s.mu.Lock()
					s.loggedIn = true
					s.mu.Unlock()
					res = map[string]any{"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FINAL_RESPONSE", "rfc_str": out, "user_info": nil}
				default:
					res = map[string]any{"response_type": "AUTH_ERR"}
				}
			case "core.ping":
				res = "pong"
			default:
				_ = ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32601, "message": "Method does not exist"}})
				continue
			}
			_ = ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": res})
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/api/current"
}

func TestSCRAMLoginExchange(t *testing.T) {
	s := &scramServer{users: map[string]string{"admin:1": "longrunfakeapikey"}, choices: []string{"PASSWORD_PLAIN", "API_KEY_PLAIN", "SCRAM"}}
	url := s.serve(t)
	ctx := context.Background()
	c, err := Dial(ctx, url, WithAPIKey("admin", "1-longrunfakeapikey"), WithoutReconnect())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.mu.Lock()
	if !s.loggedIn || len(s.seen) != 2 || s.seen[0]["mechanism"] != "SCRAM" ||
		!strings.HasPrefix(s.seen[0]["rfc_str"].(string), "n,,n=admin:1,r=") || s.seen[1]["scram_type"] != "CLIENT_FINAL_MESSAGE" {
		t.Fatalf("exchange %v", s.seen)
	}
	for _, m := range s.seen {
		if strings.Contains(m["rfc_str"].(string), "longrunfakeapikey") {
			t.Fatal("the key crossed the wire")
		}
	}
	s.mu.Unlock()

	// A wrong key is an *AuthError matching jobs.ErrUnauthorized.
	_, err = Dial(ctx, url, WithAPIKey("admin", "1-wrongkey"), WithoutReconnect())
	if !errors.Is(err, jobs.ErrUnauthorized) || !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong key: %v", err)
	}
	// A server that cannot prove it holds the key is logged out of.
	s.mu.Lock()
	s.forge = true
	s.mu.Unlock()
	_, err = Dial(ctx, url, WithAPIKey("admin", "1-longrunfakeapikey"), WithoutReconnect())
	s.mu.Lock()
	logout := s.logout
	s.mu.Unlock()
	if !errors.Is(err, jobs.ErrUnauthorized) || !logout {
		t.Fatalf("forged server signature: %v (logout %v)", err, logout)
	}
	// Without SCRAM on offer, WithRequireSCRAM refuses to send the key.
	s.mu.Lock()
	s.forge, s.choices = false, []string{"API_KEY_PLAIN"}
	s.mu.Unlock()
	_, err = Dial(ctx, url, WithAPIKey("admin", "1-longrunfakeapikey"), WithRequireSCRAM(), WithoutReconnect())
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Mechanism != "SCRAM" {
		t.Fatalf("require SCRAM: %v", err)
	}
}
