package truenas

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzFilterList feeds query-filters and query-options, as a client sends
// them, to the fake's filter_list.
func FuzzFilterList(f *testing.F) {
	seeds := [][2]string{
		{`[["id","=",1]]`, `{}`},
		{`["OR",[["id","=",1],[["state","C=","running"],["progress.percent",">=",50]]]]`, `{"count":true}`},
		{`[["method","~","^file"],["arguments.*","rin","/mnt"],["time_started.$date",">","2026-01-01T00:00:00"]]`, `{"order_by":["nulls_first:-id"],"select":["id",["method","m"]],"offset":1,"limit":2}`},
		{`[["a\\.b","in",[1,2]]]`, `{"get":true}`},
		{`[["id","bogus",1]]`, `{"bad":1}`},
		{`[[["OR",[[["OR",[]]]]]]]`, `null`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	docs := []any{}
	for _, raw := range []string{
		`{"id":1,"method":"filesystem.copy","arguments":["/mnt/a","/mnt/b"],"state":"RUNNING","progress":{"percent":50,"description":"x","extra":null},"time_started":{"$date":1767323045000},"a.b":1}`,
		`{"id":2,"method":"catalog.sync","arguments":[],"state":"FAILED","progress":{"percent":0},"exc_info":{"type":"VALIDATION"},"time_started":null}`,
	} {
		var d any
		_ = json.Unmarshal([]byte(raw), &d)
		docs = append(docs, d)
	}
	f.Fuzz(func(t *testing.T, filters, options string) {
		done := make(chan struct{})
		var out any
		var err error
		go func() {
			defer close(done)
			out, err = filterList(docs, json.RawMessage(filters), json.RawMessage(options), queryModel(len(filters)%2 == 0))
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("filter_list hangs on %q %q", filters, options)
		}
		if err == nil {
			if _, err := json.Marshal(out); err != nil {
				t.Fatalf("result does not encode: %v", err)
			}
		}
	})
}

// FuzzInSet checks the set that answers in/nin over a long operand against
// the scan it replaces: both must match the same documents.
func FuzzInSet(f *testing.F) {
	f.Add(`["id","in",[1,2,3,4,5,6,7,8,9]]`, `{"id":3}`)
	f.Add(`["id","nin",[1,2,3,4,5,6,7,8,9]]`, `{"id":30}`)
	f.Add(`["m","Cin",["A","b","C","d","E","f","G","h"]]`, `{"m":"a"}`)
	f.Add(`["m","in",["a",null,true,1,2,3,4,5]]`, `{"m":null}`)
	f.Add(`["m","in",["a","b","c","d","e","f","g","h"]]`, `{"m":["a"]}`)
	f.Add(`["m","in",[0,1,2,3,4,5,6,7]]`, `{"m":-0.0}`)
	f.Fuzz(func(t *testing.T, filter, doc string) {
		var d any
		if json.Unmarshal([]byte(doc), &d) != nil {
			return
		}
		nodes, err := compileFilters(json.RawMessage("[" + filter + "]"))
		if err != nil || len(nodes) != 1 || nodes[0].set == nil {
			return
		}
		docs := []any{normNumbers(d)}
		fast := matchNode(docs[0], &nodes[0])
		scan := nodes[0]
		scan.set = nil
		if slow := matchNode(docs[0], &scan); fast != slow {
			t.Fatalf("%s on %s: set says %v, scan says %v", filter, doc, fast, slow)
		}
	})
}

// TestFilterPythonEquality: filter_list compares with Python's ==, so a
// bool equals the number it is (True == 1), on the scan and the set path
// alike, and objects are equal only with the same keys.
func TestFilterPythonEquality(t *testing.T) {
	var docs []any
	for _, raw := range []string{`{"id":1,"v":true,"o":{"a":null}}`, `{"id":2,"v":0,"o":{"b":null}}`, `{"id":3,"v":"1","o":{}}`, `{"id":4,"v":null}`} {
		var d any
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	for _, tc := range []struct{ filter, want string }{
		{`[["v","=",1]]`, `[1]`},
		{`[["v","=",false]]`, `[2]`},
		{`[["v","in",[1]]]`, `[1]`},
		{`[["v","in",[1,10,11,12,13,14,15,16,17]]]`, `[1]`},        // the set path
		{`[["v","in",[false,10,11,12,13,14,15,16,17]]]`, `[2]`},    // the set path
		{`[["v","nin",[true,false,10,11,12,13,14,15,16]]]`, `[3]`}, // the set path
		{`[["v",">",0]]`, `[1]`},
		{`[["o","=",{"a":null}]]`, `[1]`},
		{`[["o","=",{"c":null}]]`, `[]`},
		{`[["v","nin",[5]]]`, `[1,2,3]`}, // op_nin: a null is in nothing and out of nothing
		{`[["v","=",null]]`, `[4]`},
	} {
		out, err := filterList(docs, json.RawMessage(tc.filter), json.RawMessage(`{"select":["id"]}`), pydanticQueryArgs)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		var ids []any
		for _, d := range out.([]any) {
			ids = append(ids, d.(map[string]any)["id"])
		}
		if got := jsonString(ids); got != tc.want && !(tc.want == "[]" && got == "null") {
			t.Errorf("%s: ids %s, want %s", tc.filter, got, tc.want)
		}
	}
}
