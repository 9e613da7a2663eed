package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type thing struct {
	A string   `json:"a"`
	B int      `json:"b"`
	C []string `json:"c"`
	D *bool    `json:"d"`
}

func TestRoundTripKeepsPresenceAndUnknowns(t *testing.T) {
	for _, doc := range []string{
		`{"a":"x","b":0,"c":[],"d":null,"zz":{"deep":[1,{"x":null}]}}`,
		`{"b":5}`,
		`{}`,
		`{"a":"","c":null,"d":false}`,
	} {
		var v thing
		extra, keys, err := Decode([]byte(doc), &v)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Encode(v, extra, keys)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal([]byte(doc), &a)
		_ = json.Unmarshal(out, &b)
		if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
			t.Errorf("%s -> %s", ja, jb)
		}
	}
	// A value built in Go leaves its zero members out.
	out, _ := Encode(thing{A: "x"}, nil, nil)
	if string(out) != `{"a":"x"}` {
		t.Errorf("built: %s", out)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestDepth(t *testing.T) {
	if err := Depth([]byte(strings.Repeat("[", 10)+strings.Repeat("]", 10)), 10); err != nil {
		t.Error(err)
	}
	if err := Depth([]byte(strings.Repeat("[", 11)), 10); !errors.Is(err, ErrTooDeep) {
		t.Error(err)
	}
	// Brackets inside strings, escaped quotes included, do not count.
	if err := Depth([]byte(`["\"[[[[[[[[[[[[", "{{{{{{{{{{{{{{"]`), 2); err != nil {
		t.Error(err)
	}
}

func FuzzDepth(f *testing.F) {
	f.Add([]byte(`{"a":["\"[",{}]}`), 3)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		err := Depth(data, max)
		if err != nil && !errors.Is(err, ErrTooDeep) {
			t.Fatal(err)
		}
		if err == nil && max >= 0 && max < 10000 && json.Valid(data) {
			// Anything Depth lets through must not trip encoding/json's
			// own limit.
			var v any
			if err := json.Unmarshal(data, &v); IsDepthError(err) {
				t.Fatal("Depth let a too-deep document through")
			}
		}
	})
}
