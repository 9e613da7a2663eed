package pyjson

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The wanted strings below were written by CPython 3's json.dumps and repr.

func TestFloatAsPythonRepr(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1234567.0, "1234567.0"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{1e-5, "1e-05"},
		{0.0001, "0.0001"},
		{0.1, "0.1"},
		{-zero(), "-0.0"},
		{123456789012345.67, "123456789012345.67"},
		{1e100, "1e+100"},
		{5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{2.5, "2.5"},
	} {
		if got := Float(c.f); got != c.want {
			t.Errorf("Float(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}

func zero() float64 { return 0 }

func TestNumberAsPython(t *testing.T) {
	// json.dumps([json.loads(s) for s in ...])
	for in, want := range map[string]string{
		"-0":                   "0",
		"1e5":                  "100000.0",
		"1E+2":                 "100.0",
		"-0.0":                 "-0.0",
		"12345678901234567890": "12345678901234567890",
		"1e999":                "1e999", // inf in Python; left as written
	} {
		if got := Number(json.Number(in)); got != want {
			t.Errorf("Number(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestMarshalAsPython(t *testing.T) {
	v := map[string]any{
		"b": []any{1, 2.5, nil, true, false},
		"a": "é\x7f\x00\u2028😀<>&\"\\\n\r\t\b\f",
		"c": map[string]any{},
	}
	want := `{"a": "\u00e9\u007f\u0000\u2028\ud83d\ude00<>&\"\\\n\r\t\b\f", "b": [1, 2.5, null, true, false], "c": {}}`
	if got := string(Marshal(v)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type pairs [][2]any

func (p pairs) Members(yield func(string, any) bool) {
	for _, e := range p {
		if !yield(e[0].(string), e[1]) {
			return
		}
	}
}

func TestOrderedAndOtherValues(t *testing.T) {
	v := pairs{
		{"z", []pairs{{{"y", int64(2)}, {"x", 1}}}},
		{"strings", []string{"a", "b"}},
		{"struct", struct {
			B string `json:"b"`
			A int    `json:"a"`
		}{"é", 1}},
		{"nothing", []any{}},
	}
	want := `{"z": [{"y": 2, "x": 1}], "strings": ["a", "b"], "struct": {"a": 1, "b": "\u00e9"}, "nothing": []}`
	if got := string(Marshal(v)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Where python3 is on PATH, the bytes are compared with its json.dumps
// over decoded documents.
func TestMarshalMatchesCPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH: ", err)
	}
	docs := []string{
		`{"k": [1, -0, 1.0, 1e5, 0.000012, 1234567.5, 1e300, 123456789012345678901234567890]}`,
		`["\u00ff\u0100\uffff\ud800\udc00 \u007f\u001f ~ <&>", {"\u00e9": null, "e": true, "E": false}]`,
		`{"nested": {"b": {"d": [], "c": {}}, "a": "x"}}`,
	}
	for _, doc := range docs {
		cmd := exec.Command(py, "-c", "import sys, json; sys.stdout.write(json.dumps(json.load(sys.stdin), sort_keys=True))")
		cmd.Stdin = strings.NewReader(doc)
		out, err := cmd.Output()
		if err != nil {
			t.Skip("python3 did not run: ", err)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := string(Marshal(v)); got != string(out) {
			t.Errorf("%s\n got  %s\n want %s", doc, got, out)
		}
	}
}

func ExampleMarshal() {
	doc := map[string]any{"name": "Ünïcode", "sizes": []any{json.Number("1"), json.Number("1.5e7")}}
	fmt.Println(string(Marshal(doc)))
	// Output: {"name": "\u00dcn\u00efcode", "sizes": [1, 15000000.0]}
}

func TestCloneIsDeep(t *testing.T) {
	v := map[string]any{"a": []any{map[string]any{"b": json.Number("1")}}, "s": "x"}
	c := Clone(v).(map[string]any)
	c["a"].([]any)[0].(map[string]any)["b"] = "changed"
	c["s"] = "y"
	if got := string(Marshal(v)); got != `{"a": [{"b": 1}], "s": "x"}` {
		t.Errorf("the original changed: %s", got)
	}
}
