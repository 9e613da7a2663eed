package truenas_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/truenas"
)

// tnScram is a client of TrueNAS's SCRAM framing (as api_client's
// py_scram builds it): nonces are base64 of raw bytes, the server's is
// base64(client bytes || server bytes).
type tnScram struct {
	user, material string
	cnonce         []byte
	bare           string
	serverFirst    string
	keys           truenas.ScramKeys
	auth           string
}

func (c *tnScram) first() string {
	c.cnonce = make([]byte, truenas.ScramNonceSize)
	_, _ = rand.Read(c.cnonce)
	c.bare = "n=" + c.user + ",r=" + base64.StdEncoding.EncodeToString(c.cnonce)
	return "n,," + c.bare
}

func (c *tnScram) final(t *testing.T, serverFirst string) string {
	t.Helper()
	c.serverFirst = serverFirst
	var nonce64, salt64 string
	iters := 0
	for _, part := range strings.Split(serverFirst, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "r":
			nonce64 = v
		case "s":
			salt64 = v
		case "i":
			iters, _ = strconv.Atoi(v)
		}
	}
	nonce, err := base64.StdEncoding.DecodeString(nonce64)
	if err != nil || len(nonce) != 2*truenas.ScramNonceSize || string(nonce[:truenas.ScramNonceSize]) != string(c.cnonce) {
		t.Fatalf("server nonce %q", nonce64)
	}
	salt, _ := base64.StdEncoding.DecodeString(salt64)
	if len(salt) != 16 {
		t.Fatalf("salt %q: %d bytes, TrueNAS uses 16", salt64, len(salt))
	}
	c.keys, err = truenas.DeriveScramKeys(c.material, string(salt), iters)
	if err != nil {
		t.Fatal(err)
	}
	withoutProof := "c=biws,r=" + nonce64
	c.auth = c.bare + "," + serverFirst + "," + withoutProof
	m := hmac.New(sha512.New, c.keys.StoredKey)
	m.Write([]byte(c.auth))
	sig := m.Sum(nil)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = sig[i] ^ c.keys.ClientKey[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
}

func (c *tnScram) verify(serverFinal string) bool {
	m := hmac.New(sha512.New, c.keys.ServerKey)
	m.Write([]byte(c.auth))
	return serverFinal == "v="+base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type loginResp struct {
	ResponseType string          `json:"response_type"`
	ScramType    string          `json:"scram_type"`
	RFCStr       string          `json:"rfc_str"`
	UserInfo     json.RawMessage `json:"user_info"`
}

func scramCall(t *testing.T, w *wire, typ, rfc string) (loginResp, *frame) {
	t.Helper()
	f, _ := w.reply(w.send("auth.login_ex", map[string]any{"mechanism": "SCRAM", "scram_type": typ, "rfc_str": rfc}))
	if f.Error != nil {
		return loginResp{}, &f
	}
	var r loginResp
	if err := json.Unmarshal(f.Result, &r); err != nil {
		t.Fatal(err)
	}
	return r, nil
}

// A full SCRAM-SHA-512 API-key login against the fake (26.0), with the
// library's client as an independent peer: the server proves itself, the
// session is logged in as the key's user, and jobs it starts carry the
// key in their credentials.
func TestScramLoginAgainstFake(t *testing.T) {
	_, _, base := legacyServer(t, truenas.Version2600) // 4096 iterations
	w := dial(t, "ws"+strings.TrimPrefix(base, "http")+"/api/current")

	var choices []string
	_ = json.Unmarshal(w.call("auth.mechanism_choices"), &choices)
	if strings.Join(choices, ",") != "API_KEY_PLAIN,TOKEN_PLAIN,PASSWORD_PLAIN,SCRAM" {
		t.Fatalf("mechanism_choices %v", choices)
	}

	c := &tnScram{user: "admin:1", material: "longrunfakeapikey"}
	r, ferr := scramCall(t, w, "CLIENT_FIRST_MESSAGE", c.first())
	if ferr != nil || r.ResponseType != "SCRAM_RESPONSE" || r.ScramType != "SERVER_FIRST_RESPONSE" || string(r.UserInfo) != "null" {
		t.Fatalf("first: %+v %v", r, ferr)
	}
	if !strings.HasSuffix(r.RFCStr, ",i=4096") {
		t.Fatalf("iterations: %s", r.RFCStr)
	}
	r, ferr = scramCall(t, w, "CLIENT_FINAL_MESSAGE", c.final(t, r.RFCStr))
	if ferr != nil || r.ResponseType != "SCRAM_RESPONSE" || r.ScramType != "SERVER_FINAL_RESPONSE" {
		t.Fatalf("final: %+v %v", r, ferr)
	}
	if !c.verify(r.RFCStr) {
		t.Fatalf("server signature %s", r.RFCStr)
	}
	if !strings.Contains(string(r.UserInfo), `"pw_name":"admin"`) {
		t.Fatalf("user_info %s", r.UserInfo)
	}
	res := w.call("core.get_jobs")
	if string(res) != "[]" {
		t.Fatalf("after login: %s", res)
	}
	w.call("filesystem.copy", "/mnt/tank/a", "/mnt/tank/b")
	res = w.call("core.get_jobs", [][]any{{"id", "=", 1}}, map[string]any{"get": true})
	if !strings.Contains(string(res), `"credentials":{"type":"API_KEY","data":{"username":"admin","login_id":`) ||
		!strings.Contains(string(res), `"api_key":{"id":1,"name":"admin-key"}}`) {
		t.Fatalf("job credentials: %s", res)
	}
}

func TestScramFailures(t *testing.T) {
	_, _, base := legacyServer(t, truenas.Version2600)
	w := dial(t, "ws"+strings.TrimPrefix(base, "http")+"/api/current")
	// A final message with no first one.
	_, ferr := scramCall(t, w, "CLIENT_FINAL_MESSAGE", "c=biws,r=x,p=eA==")
	if ferr == nil || ferr.Error.Code != truenas.CodeMethodCallError || !strings.Contains(string(ferr.Error.Data), "SCRAM authentication is not in progress") {
		t.Fatalf("final without first: %+v", ferr)
	}
	// Unknown key id, wrong user, bound request over ws://.
	n32 := base64.StdEncoding.EncodeToString(make([]byte, truenas.ScramNonceSize))
	for _, first := range []string{"n,,n=admin:9,r=" + n32, "n,,n=guest:1,r=" + n32,
		"p=tls-server-end-point,,n=admin:1,r=" + n32, "n,,n=admin:1,r=fyko+d2lbbFgONRv9qkxdawL"} {
		r, ferr := scramCall(t, w, "CLIENT_FIRST_MESSAGE", first)
		if ferr != nil || r.ResponseType != "AUTH_ERR" {
			t.Fatalf("%s: %+v %v", first, r, ferr)
		}
	}
	// A wrong key: the proof fails.
	c := &tnScram{user: "admin:1", material: "wrongkey"}
	r, _ := scramCall(t, w, "CLIENT_FIRST_MESSAGE", c.first())
	r, ferr = scramCall(t, w, "CLIENT_FINAL_MESSAGE", c.final(t, r.RFCStr))
	if ferr != nil || r.ResponseType != "AUTH_ERR" {
		t.Fatalf("wrong key: %+v %v", r, ferr)
	}
	f, _ := w.reply(w.send("core.get_jobs"))
	if f.Error == nil {
		t.Fatal("logged in after a failed proof")
	}
}

// Before 26.0 SCRAM is not a mechanism, and 25.04/25.10 fail
// auth.mechanism_choices before login as their middleware does.
func TestMechanismChoicesPerVersion(t *testing.T) {
	b, _, url := setup(t)
	b.SetVersion(truenas.Version2510)
	w := dial(t, url)
	f, _ := w.reply(w.send("auth.mechanism_choices"))
	if f.Error == nil || !strings.Contains(string(f.Error.Data), "'NoneType' object has no attribute 'may_create_auth_token'") {
		t.Fatalf("25.10 before login: %s %+v", f.Result, f.Error)
	}
	_, ferr := scramCall(t, w, "CLIENT_FIRST_MESSAGE", "n,,n=admin:1,r=abc")
	if ferr == nil || ferr.Error.Code != truenas.CodeInvalidParams {
		t.Fatalf("SCRAM on 25.10: %+v", ferr)
	}
	login(t, w)
	if got := string(w.call("auth.mechanism_choices")); got != `["API_KEY_PLAIN","TOKEN_PLAIN","PASSWORD_PLAIN"]` {
		t.Fatalf("25.10 after login: %s", got)
	}
	for _, vw := range [][2]string{
		{"25.04", `"TrueNAS-25.04.2"`}, {"25.10", `"TrueNAS-25.10.1"`}, {"26.0", `"TrueNAS-26.0.0"`},
	} {
		v, want := truenas.Version(vw[0]), vw[1]
		b.SetVersion(v)
		if got := string(w.call("system.version")); got != want {
			t.Errorf("%s system.version %s", v, got)
		}
	}
	if got := string(w.call("system.product_type")); got != `"COMMUNITY_EDITION"` {
		t.Errorf("product_type %s", got)
	}
	info := w.call("system.info")
	if !strings.HasPrefix(string(info), `{"version":"26.0.0","buildtime":{"$date":`) || !strings.Contains(string(info), `"uptime":"3 days, 4:05:06"`) {
		t.Errorf("system.info %s", info)
	}
}

// Extra arguments fail as the middleware's argument check does.
func TestTooManyArgumentsJSONRPC(t *testing.T) {
	_, _, url := setup(t)
	w := dial(t, url)
	f, _ := w.reply(w.send("core.ping", "x"))
	if f.Error == nil || f.Error.Code != truenas.CodeInvalidParams || f.Error.Message != "Invalid params" {
		t.Fatalf("core.ping(x): %s %+v", f.Result, f.Error)
	}
	want := `{"error":22,"errname":"EINVAL","reason":"[EINVAL] : Too many arguments (expected 0, found 1)\n","trace":{"class":"ValidationErrors","formatted":`
	if !strings.HasPrefix(string(f.Error.Data), want) || !strings.HasSuffix(string(f.Error.Data), `"extra":[["","Too many arguments (expected 0, found 1)",22]]}`) {
		t.Fatalf("data %s", f.Error.Data)
	}
	if strings.Contains(string(f.Error.Data), `"frames"`) {
		t.Fatalf("JSON-RPC traces carry no frames: %s", f.Error.Data)
	}
}
