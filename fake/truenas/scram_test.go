package truenas_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/longrun/longrun/fake/truenas"
)

// runVector plays a recorded SCRAM exchange against the library's server
// conversation with the recorded server nonce.
func runVector(t *testing.T, gen scram.HashGeneratorFcn, password, salt64 string, iters int, serverNonce string, steps [][2]string) {
	t.Helper()
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil {
		t.Fatal(err)
	}
	client, err := gen.NewClient("user", password, "")
	if err != nil {
		t.Fatal(err)
	}
	cred := client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: iters})
	srv, err := gen.NewServer(func(name string) (scram.StoredCredentials, error) {
		if name != "user" {
			t.Fatalf("lookup %q", name)
		}
		return cred, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	conv := srv.WithNonceGenerator(func() string { return serverNonce }).NewConversation()
	for i, st := range steps {
		got, err := conv.Step(st[0])
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got != st[1] {
			t.Fatalf("step %d: got %q, want %q", i, got, st[1])
		}
	}
	if !conv.Valid() {
		t.Fatal("conversation not valid")
	}
}

// RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section 3
// (SCRAM-SHA-256): the published exchanges, replayed against the server
// side the fake uses.
func TestScramRFCVectors(t *testing.T) {
	runVector(t, scram.SHA1, "pencil", "QSXCR+Q6sek8bf92", 4096, "3rfcNHYJY1ZVvWVs7j", [][2]string{
		{"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"},
		{"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
	})
	runVector(t, scram.SHA256, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", [][2]string{
		{"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	})
}

// No RFC publishes a SCRAM-SHA-512 exchange. This one keeps RFC 7677's
// inputs (user "user", password "pencil", its salt, nonces and 4096
// iterations) and swaps the hash for SHA-512. Its values were computed
// with Python's hashlib/hmac (an implementation independent of both Go
// ones) from RFC 5802's formulas: SaltedPassword = PBKDF2-HMAC-SHA512,
// ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
// ServerKey = HMAC(SaltedPassword, "Server Key"), AuthMessage =
// client-first-bare "," server-first "," client-final-without-proof.
// The library's SHA-512 server must accept the proof and answer the same
// verifier, and the fake's own key derivation (what it stores for an API
// key) must give the same StoredKey and ServerKey.
func TestScramSHA512Vector(t *testing.T) {
	const (
		stored64 = "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg=="
		server64 = "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA=="
	)
	runVector(t, scram.SHA512, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", [][2]string{
		{"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==",
			"v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="},
	})
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	k, err := truenas.DeriveScramKeys("pencil", string(salt), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(k.StoredKey); got != stored64 {
		t.Errorf("StoredKey %s", got)
	}
	if got := base64.StdEncoding.EncodeToString(k.ServerKey); got != server64 {
		t.Errorf("ServerKey %s", got)
	}
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

	client, err := scram.SHA512.NewClient("admin:1", "longrunfakeapikey", "")
	if err != nil {
		t.Fatal(err)
	}
	conv := client.NewConversation()
	first, _ := conv.Step("")
	r, ferr := scramCall(t, w, "CLIENT_FIRST_MESSAGE", first)
	if ferr != nil || r.ResponseType != "SCRAM_RESPONSE" || r.ScramType != "SERVER_FIRST_RESPONSE" || string(r.UserInfo) != "null" {
		t.Fatalf("first: %+v %v", r, ferr)
	}
	if !strings.Contains(r.RFCStr, ",i=4096") {
		t.Fatalf("iterations: %s", r.RFCStr)
	}
	final, err := conv.Step(r.RFCStr)
	if err != nil {
		t.Fatal(err)
	}
	r, ferr = scramCall(t, w, "CLIENT_FINAL_MESSAGE", final)
	if ferr != nil || r.ResponseType != "SCRAM_RESPONSE" || r.ScramType != "SERVER_FINAL_RESPONSE" {
		t.Fatalf("final: %+v %v", r, ferr)
	}
	if _, err := conv.Step(r.RFCStr); err != nil || !conv.Valid() {
		t.Fatalf("server proof: %v", err)
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
	for _, first := range []string{"n,,n=admin:9,r=abc", "n,,n=guest:1,r=abc", "p=tls-server-end-point,,n=admin:1,r=abc"} {
		r, ferr := scramCall(t, w, "CLIENT_FIRST_MESSAGE", first)
		if ferr != nil || r.ResponseType != "AUTH_ERR" {
			t.Fatalf("%s: %+v %v", first, r, ferr)
		}
	}
	// A wrong key: the proof fails.
	client, _ := scram.SHA512.NewClient("admin:1", "wrongkey", "")
	conv := client.NewConversation()
	first, _ := conv.Step("")
	r, _ := scramCall(t, w, "CLIENT_FIRST_MESSAGE", first)
	final, err := conv.Step(r.RFCStr)
	if err != nil {
		t.Fatal(err)
	}
	r, ferr = scramCall(t, w, "CLIENT_FINAL_MESSAGE", final)
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
	for v, want := range map[truenas.Version]string{
		truenas.Version2504: `"TrueNAS-25.04.2"`, truenas.Version2510: `"TrueNAS-25.10.1"`, truenas.Version2600: `"TrueNAS-26.0.0"`,
	} {
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
