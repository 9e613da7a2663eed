package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzOld makes the fuzz types below decode their nested objects with
// decodeTwice, so that a whole tree can be decoded the old way. The fuzz
// body runs one input at a time.
var fuzzOld bool

func decodeWith(b []byte, v any) (map[string]json.RawMessage, Keys, error) {
	if fuzzOld {
		return decodeTwice(b, v)
	}
	return Decode(b, v)
}

// fzNode is a nested wire type (a server's NIC, say).
type fzNode struct {
	ID    string                     `json:"id"`
	N     *int                       `json:"n"`
	Kids  []*fzNode                  `json:"kids"`
	Extra map[string]json.RawMessage `json:"-"`
	Keys  Keys                       `json:"-"`
}

type fzNodeAlias fzNode

func (n *fzNode) UnmarshalJSON(b []byte) error {
	var a fzNodeAlias
	extra, keys, err := decodeWith(b, &a)
	if err != nil {
		return err
	}
	slices.Sort(keys)
	*n = fzNode(a)
	n.Extra, n.Keys = extra, keys
	return nil
}

// fzRef is a value wire type that also takes a bare string (a Ref).
type fzRef struct {
	UUID  string                     `json:"uuid"`
	URI   string                     `json:"resource_uri"`
	Extra map[string]json.RawMessage `json:"-"`
	Keys  Keys                       `json:"-"`
	Bare  bool                       `json:"-"`
}

type fzRefAlias fzRef

func (r *fzRef) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = fzRef{UUID: s, Bare: true}
		return nil
	}
	var a fzRefAlias
	extra, keys, err := decodeWith(b, &a)
	if err != nil {
		return err
	}
	slices.Sort(keys)
	*r = fzRef(a)
	r.Extra, r.Keys = extra, keys
	return nil
}

// fzThing has a field of every kind Decode reads itself and some it
// leaves to encoding/json.
type fzThing struct {
	S          string            `json:"s"`
	I          int               `json:"i"`
	I8         int8              `json:"i8"`
	I64        int64             `json:"i64"`
	U          uint              `json:"u"`
	F          float64           `json:"f"`
	B          bool              `json:"b"`
	PS         *string           `json:"ps"`
	PI         *int              `json:"pi"`
	PB         *bool             `json:"pb"`
	SS         []string          `json:"ss"`
	SI         []int             `json:"si"`
	Kids       []*fzNode         `json:"kids"`
	Refs       []fzRef           `json:"refs"`
	Ref        fzRef             `json:"ref"`
	PRef       *fzNode           `json:"pref"`
	Raw        json.RawMessage   `json:"raw"`
	Raws       []json.RawMessage `json:"raws"`
	M          map[string]any    `json:"m"`
	A          any               `json:"a"`
	Bytes      []byte            `json:"bytes"`
	Camel      string            `json:"CamelCase"`
	Skipped    string            `json:"-"`
	unexported string
	NoTag      string
}

var fuzzSeeds = []string{
	`{"s":"x","i":-3,"i8":127,"i64":9007199254740993,"u":7,"f":1.5e3,"b":true,"ps":"p","pi":4,"pb":false,
	  "ss":["a","b\u00e9"],"si":[1,2],"kids":[{"id":"k","n":1,"kids":[null,{"id":"g","zz":[1]}],"x":{}},null],
	  "refs":["u1",{"uuid":"u2","resource_uri":"/r/","more":true},null],"ref":{"uuid":"r"},"pref":{"id":"p"},
	  "raw":{"a":[1,{"b":null}]},"raws":[1,"two",null,{}],"m":{"a":1,"b":[true]},"a":[1,"x"],"bytes":"aGk=",
	  "CamelCase":"c","NoTag":"n","unknown":{"deep":[1,2,{"x":"y"}]},"also":null}`,
	`{"S":"upper","s":"lower","UNKNOWN":1,"unknown":2,"camelcase":"folded","notag":"f","ſ":"long s","ID":3}`,
	`{"ss":["a","b","c"],"ss":["x"],"ss":[null,null],"kids":[{"id":"a"},{"id":"b"}],"kids":[null],"m":{"a":1},"m":{"b":2}}`,
	`{"ref":null,"pref":null,"raw":null,"ps":null,"pi":null,"kids":null,"ss":null,"s":null,"i":null,"b":null}`,
	`{"i":1.0,"s":1}`, `{"i":"1"}`, `{"i8":128}`, `{"i":99999999999999999999}`, `{"i":-0}`,
	`{"s":"\ud800","k\u0069ds":[],"\u0073":"esc"}`, "{\"s\":\"\xff\xfe\",\"\xffkey\":1}",
	`null`, ` null `, `{}`, `[]`, `"x"`, `1`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1}x`,
	`{"a":[1,2}`, `{"a":"\x"}`, `{"a":tru}`, `{"a":nul}`, `{"ref":"bare"}`, `{"ref":1}`, `{"kids":[1]}`,
	`{"pref":"x"}`, `{"refs":{}}`, `{"ss":"x"}`, `{"b":"true"}`, `{"pb":1}`, `{"s":"a","s":"b"}`,
	`{"x":1,"x":2,"x":3}`, `{"kids":[{"n":1},{"n":"x"}]}`,
}

func FuzzDecodeMatchesTwoPass(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareDecode(t, data)
	})
}

// compareDecode decodes data with Decode and with decodeTwice (the whole
// tree each way) and fails unless they agree: both fail with the same
// error, or both give the same value, unknown members and keys.
func compareDecode(t *testing.T, data []byte) {
	t.Helper()
	var got, want fzThing
	fuzzOld = false
	gotExtra, gotKeys, gotErr := Decode(data, &got)
	fuzzOld = true
	wantExtra, wantKeys, wantErr := decodeTwice(data, &want)
	fuzzOld = false
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: Decode says %v, json.Unmarshal says %v", data, gotErr, wantErr)
	}
	if gotErr != nil {
		if gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: errors differ:\n%v\n%v", data, gotErr, wantErr)
		}
		return
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotExtra, wantExtra) || !reflect.DeepEqual(gotKeys, wantKeys) {
		t.Fatalf("%q:\nDecode      %+v\n  extra %q keys %q\ntwo passes  %+v\n  extra %q keys %q", data, got, gotExtra, gotKeys, want, wantExtra, wantKeys)
	}
}

func TestDecodeMatchesTwoPass(t *testing.T) {
	// The fuzz types take the one-pass road, not the fallback.
	for _, v := range []any{&fzThing{}, &fzNodeAlias{}, &fzRefAlias{}} {
		if planFor(reflect.TypeOf(v)) == nil {
			t.Fatalf("%T has no plan", v)
		}
	}
	for _, s := range fuzzSeeds {
		compareDecode(t, []byte(s))
	}
}

func TestDecodeDepth(t *testing.T) {
	ok := `{"a":` + strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1) + `}`
	var v fzThing
	if _, _, err := Decode([]byte(ok), &v); err != nil {
		t.Fatal(err)
	}
	deep := `{"a":` + strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting) + `}`
	if _, _, err := Decode([]byte(deep), &v); !IsDepthError(err) {
		t.Fatalf("got %v", err)
	}
}

// TestDecodeCopiesExtra: unknown members' bytes are the caller's own, not
// slices of data.
func TestDecodeCopiesExtra(t *testing.T) {
	data := []byte(`{"s":"x","zz":[1,2],"yy":"q"}`)
	var v fzThing
	extra, keys, err := Decode(data, &v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = ' '
	}
	if string(extra["zz"]) != "[1,2]" || string(extra["yy"]) != `"q"` || len(keys) != 3 || v.S != "x" {
		t.Fatalf("%q %q %+v", extra, keys, v)
	}
	if got := append(extra["zz"], '!'); string(extra["yy"]) != `"q"` || string(got) != "[1,2]!" {
		t.Fatal("appending to one member wrote over another")
	}
}

func TestDecodeRefusesWhatJSONRefuses(t *testing.T) {
	var v fzThing
	for _, doc := range []string{`[]`, `{"a":1,}`, `{"i":"x"}`, `{"kids":[{"n":"x"}]}`} {
		_, _, err := Decode([]byte(doc), &v)
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if !errors.As(err, &se) && !errors.As(err, &te) {
			t.Errorf("%s: %v", doc, err)
		}
	}
}
