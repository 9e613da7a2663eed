package freezer

import (
	"math"
	"testing"
)

// TestPyAtoi: the answers are CPython 3's int(s).
func TestPyAtoi(t *testing.T) {
	for _, c := range []struct {
		s       string
		n       int64
		big, ok bool
	}{
		{"10", 10, false, true},
		{" +7 ", 7, false, true},
		{"-0", 0, false, true},
		{"00012", 12, false, true},
		{"1_000", 1000, false, true},
		{"\u0662", 2, false, true},        // ARABIC-INDIC DIGIT TWO
		{"\uff11\uff12", 12, false, true}, // FULLWIDTH ONE TWO
		{"\U0001D7D9", 1, false, true},    // MATHEMATICAL DOUBLE-STRUCK DIGIT ONE (second run of ten)
		{"\u20032", 2, false, true},       // EM SPACE, 2
		{"9223372036854775807", math.MaxInt64, false, true},
		{"9223372036854775808", math.MaxInt64, true, true},
		{"-9223372036854775808", math.MinInt64, false, true},
		{"-9223372036854775809", math.MinInt64, true, true},
		{"99999999999999999999999", math.MaxInt64, true, true},
		{"", 0, false, false},
		{"-", 0, false, false},
		{"1__0", 0, false, false},
		{"_1", 0, false, false},
		{"1_", 0, false, false},
		{"1e1", 0, false, false},
		{"0x10", 0, false, false},
		{"1.0", 0, false, false},
		{"+-1", 0, false, false},
		{"\u00b2", 0, false, false}, // SUPERSCRIPT TWO is No, not Nd
	} {
		n, big, ok := pyAtoi(c.s)
		if n != c.n || big != c.big || ok != c.ok {
			t.Errorf("pyAtoi(%q) = %d %v %v, want %d %v %v", c.s, n, big, ok, c.n, c.big, c.ok)
		}
	}
}

// FuzzPyAtoi: no panic on any text, and big only with ok.
func FuzzPyAtoi(f *testing.F) {
	for _, s := range []string{"1", "-1_0", "\u0663", " 9 ", "99999999999999999999", "_", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, big, ok := pyAtoi(s)
		if big && !ok {
			t.Fatalf("pyAtoi(%q): big but not ok", s)
		}
		_ = n
	})
}
