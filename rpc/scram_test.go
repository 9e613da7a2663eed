package rpc

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/jobs"
)

// The RFC test vectors, run through the same client code as the
// SCRAM-SHA-512 login (with the vectors' hash, nonce and iterations).
func TestSCRAMVectors(t *testing.T) {
	for _, v := range []struct {
		name                                                      string
		hash                                                      func() hash.Hash
		nonce, clientFirst, serverFirst, clientFinal, serverFinal string
	}{
		{
			name: "RFC 5802 SCRAM-SHA-1", hash: sha1.New, nonce: "fyko+d2lbbFgONRv9qkxdawL",
			clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			name: "RFC 7677 SCRAM-SHA-256", hash: sha256.New, nonce: "rOprNGfwEbeRWgbNEkqO",
			clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	} {
		t.Run(v.name, func(t *testing.T) {
			conv := func() *scramClient {
				s, err := newSCRAM(scramName("user", 0), "pencil", nil)
				if err != nil {
					t.Fatal(err)
				}
				s.h, s.nonce, s.minIter = v.hash, v.nonce, 4096
				return s
			}
			s := conv()
			if first := s.first(); first != v.clientFirst {
				t.Fatalf("client-first %q", first)
			}
			final, err := s.final(v.serverFirst)
			if err != nil || final != v.clientFinal {
				t.Fatalf("client-final %q %v", final, err)
			}
			if err := s.verify(v.serverFinal); err != nil {
				t.Fatalf("server-final refused: %v", err)
			}
			s = conv()
			s.first()
			s.final(v.serverFirst)
			if s.verify("v=AAAA"+v.serverFinal[6:]) == nil {
				t.Fatal("forged server signature accepted")
			}
			// A server nonce that does not extend ours is refused.
			s = conv()
			s.first()
			if _, err := s.final("r=someoneelse" + v.serverFirst[2+len(v.nonce):]); err == nil {
				t.Fatal("foreign nonce accepted")
			}
			// Below the middleware's minimum iteration count.
			s, _ = newSCRAM("user", "pencil", nil)
			s.nonce = v.nonce
			s.first()
			if _, err := s.final(v.serverFirst); err == nil {
				t.Fatal("4096 iterations accepted for a TrueNAS login")
			}
		})
	}
	if scramName("admin", 7) != "admin:7" || saslName("a,b=c") != "a=2Cb=3Dc" {
		t.Fatal("names")
	}
}

// TestSCRAMLoginAgainstFake logs in with an API key through SCRAM on the
// fake emulating TrueNAS 26.0, whose reading of the middleware was made
// apart from this client's.
func TestSCRAMLoginAgainstFake(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	srv.TrueNAS().SetVersion(truenas.Version2600)
	u := srv.Env().Users()[0]
	ctx := context.Background()
	c, err := Dial(ctx, srv.WebsocketURL(), WithAPIKey(u.Name, u.APIKey), WithRequireSCRAM(), WithoutReconnect())
	if err != nil {
		t.Fatal(err)
	}
	var me map[string]any
	if err := c.Call(ctx, "auth.me", nil, &me); err != nil || me["pw_name"] != u.Name {
		t.Fatalf("auth.me %v %v", me, err)
	}
	c.Close()
	_, err = Dial(ctx, srv.WebsocketURL(), WithAPIKey(u.Name, strings.SplitN(u.APIKey, "-", 2)[0]+"-wrongkey"), WithoutReconnect())
	if !errors.Is(err, jobs.ErrUnauthorized) || !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong key: %v", err)
	}
	// 25.10 offers no SCRAM: the plain key logs in, unless SCRAM is required.
	srv.TrueNAS().SetVersion(truenas.Version2510)
	c, err = Dial(ctx, srv.WebsocketURL(), WithAPIKey(u.Name, u.APIKey), WithoutReconnect())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = Dial(ctx, srv.WebsocketURL(), WithAPIKey(u.Name, u.APIKey), WithRequireSCRAM(), WithoutReconnect())
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Mechanism != "SCRAM" {
		t.Fatalf("require SCRAM on 25.10: %v", err)
	}
}

// TestSCRAMForgedServer: a middle man that relays the exchange but cannot
// sign the server-final message is logged out of, and the login fails.
func TestSCRAMForgedServer(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	srv.TrueNAS().SetVersion(truenas.Version2600)
	u := srv.Env().Users()[0]
	var mu sync.Mutex
	var logout bool
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer client.Close()
		up, _, err := websocket.DefaultDialer.Dial(srv.WebsocketURL(), nil)
		if err != nil {
			return
		}
		defer up.Close()
		go func() {
			for {
				_, data, err := up.ReadMessage()
				if err != nil {
					return
				}
				if strings.Contains(string(data), "SERVER_FINAL_RESPONSE") {
					var f map[string]any
					_ = json.Unmarshal(data, &f)
					f["result"].(map[string]any)["rfc_str"] = "v=" + strings.Repeat("A", 86) + "=="
					data, _ = json.Marshal(f)
				}
				_ = client.WriteMessage(websocket.TextMessage, data)
			}
		}()
		for {
			_, data, err := client.ReadMessage()
			if err != nil {
				return
			}
			if strings.Contains(string(data), `"auth.logout"`) {
				mu.Lock()
				logout = true
				mu.Unlock()
			}
			_ = up.WriteMessage(websocket.TextMessage, data)
		}
	}))
	defer hs.Close()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http")+"/api/current",
		WithAPIKey(u.Name, u.APIKey), WithoutReconnect())
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(err, jobs.ErrUnauthorized) || !logout {
		t.Fatalf("forged server signature: %v (logout %v)", err, logout)
	}
}
