package truenas

import (
	"encoding/json"
	"testing"
)

// TestFilterListOrderOfSteps follows utils/filter_list.py's filter_list
// step by step: select runs on each match (so order_by sees the selected
// entry), count comes before ordering and paging, each order_by key is a
// stable sort of its own (the last key sorts first), a plain key with a
// null fails as Python's sorted does, get refuses offset and limit > 1,
// offset and limit slice as Python does, and the release's argument
// model words the errors (pydantic QueryArgs from 25.10, the legacy
// schema before).
func TestFilterListOrderOfSteps(t *testing.T) {
	var docs []any
	for _, raw := range []string{
		`{"id":1,"g":"b","n":2,"f":null}`,
		`{"id":2,"g":"a","n":1,"f":5}`,
		`{"id":3,"g":"b","n":1,"f":3}`,
		`{"id":4,"g":"a","n":2,"f":null}`,
	} {
		var d any
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, normNumbers(d))
	}
	for _, tc := range []struct {
		model            queryModel
		filters, options string
		want             string
	}{
		{pydanticQueryArgs, `[]`, `{"count":true,"limit":1,"offset":2}`, `4`},
		{pydanticQueryArgs, `[["id",">",1]]`, `{"count":true,"offset":1}`, `3`},
		// count wins over get, except where get short-circuits (filters, no order_by).
		{pydanticQueryArgs, `[]`, `{"count":true,"get":true}`, `4`},
		{pydanticQueryArgs, `[["id",">",1]]`, `{"count":true,"get":true,"select":["id"]}`, `{"id":2}`},
		// the last order_by key sorts first.
		{pydanticQueryArgs, `[]`, `{"order_by":["g","n"],"select":["id","n","g"]}`, `[{"g":"a","id":2,"n":1},{"g":"b","id":3,"n":1},{"g":"a","id":4,"n":2},{"g":"b","id":1,"n":2}]`},
		{pydanticQueryArgs, `[]`, `{"order_by":["-id","g"]}`, `[{"f":null,"g":"a","id":4,"n":2},{"f":5,"g":"a","id":2,"n":1},{"f":3,"g":"b","id":3,"n":1},{"f":null,"g":"b","id":1,"n":2}]`},
		{pydanticQueryArgs, `[]`, `{"order_by":["nulls_last:-f"],"select":["id","f"]}`, `[{"f":5,"id":2},{"f":3,"id":3},{"f":null,"id":1},{"f":null,"id":4}]`},
		{pydanticQueryArgs, `[]`, `{"order_by":["nulls_last:-f"],"select":["id"]}`, `[{"id":1},{"id":2},{"id":3},{"id":4}]`},
		{pydanticQueryArgs, `[]`, `{"order_by":["nulls_first:f"],"select":["id","f"]}`, `[{"f":null,"id":1},{"f":null,"id":4},{"f":3,"id":3},{"f":5,"id":2}]`},
		{pydanticQueryArgs, `[]`, `{"order_by":["f"]}`, `TypeError: '<' not supported between instances of 'NoneType' and 'int'`},
		// select runs first: an unselected key orders by null.
		{pydanticQueryArgs, `[]`, `{"order_by":["-n"],"select":["id"]}`, `TypeError: '<' not supported between instances of 'NoneType' and 'NoneType'`},
		{pydanticQueryArgs, `[]`, `{"offset":-1,"select":["id"]}`, `[{"id":4}]`},
		{pydanticQueryArgs, `[]`, `{"limit":-3,"select":["id"]}`, `[{"id":1}]`},
		{pydanticQueryArgs, `[]`, `{"offset":9}`, `[]`},
		{pydanticQueryArgs, `[]`, `{"get":true,"limit":2}`, `[["options","Value error, Invalid options combination. ` + "`get`" + ` implies a single result.",22]]`},
		{legacyQuerySchema, `[]`, `{"get":true,"offset":1}`, `[["query-options","Invalid options combination. ` + "`get`" + ` implies a single result.",22]]`},
		{pydanticQueryArgs, `[]`, `{"limit":10001}`, `[["options","Value error, Options limit must be between 1 and 10000",22]]`},
		{legacyQuerySchema, `[]`, `{"limit":10001,"count":true}`, `4`},
		{pydanticQueryArgs, `[]`, `{"bogus":1,"relationships":true}`, `[["options.bogus","Extra inputs are not permitted",22],["options.relationships","Extra inputs are not permitted",22]]`},
		{legacyQuerySchema, `[]`, `{"bogus":1,"relationships":true,"count":true}`, `[["query-options.bogus","Field was not expected",22]]`},
		{legacyQuerySchema, `[]`, `{"relationships":true,"extend":null,"count":true}`, `4`},
		{pydanticQueryArgs, `[]`, `{"limit":"2","count":1,"offset":null}`, `[["options.count","Input should be a valid boolean",22],["options.limit","Input should be a valid integer",22],["options.offset","Input should be a valid integer",22]]`},
		{legacyQuerySchema, `[]`, `{"limit":"2","offset":null,"select":["id"]}`, `[["query-options.offset","null not allowed",22]]`},
		{legacyQuerySchema, `[]`, `{"limit":" 2","select":["id"],"extend":null}`, `[{"id":1},{"id":2}]`},
		{legacyQuerySchema, `[]`, `{"count":"yes","order_by":"id"}`, `[["query-options.count","Not a boolean",22],["query-options.order_by","Not a list",22]]`},
		{pydanticQueryArgs, `[]`, `[1]`, `[["options","Input should be a valid dictionary or instance of QueryOptions",22]]`},
		{pydanticQueryArgs, `[["id","==",1]]`, `{}`, `[["filters","Value error, Invalid operation: ==",22]]`},
		{legacyQuerySchema, `[["id","C~","x"]]`, `{}`, `[["query-filters","Invalid case-insensitive operation: C~",22]]`},
		{pydanticQueryArgs, `[["id",1]]`, `{}`, `[["filters","Value error, Invalid operation: id",22]]`},
		{legacyQuerySchema, `[["id","=",1,"x"]]`, `{}`, `[["query-filters","Invalid filter ['id', '=', 1, 'x']",22]]`},
		{pydanticQueryArgs, `[["OR",[]]]`, `{}`, `[["filters","Value error, OR filter requires at least one branch.",22]]`},
		{pydanticQueryArgs, `[["id","=",9]]`, `{"get":true}`, `MatchNotFound: MatchNotFound()`},
		{pydanticQueryArgs, `[]`, `{"select":[["id","a","b"]]}`, `[["options","Value error, ['id', 'a', 'b']: A select as list may only contain two parameters: the name of the parameter being selected, and the name to which to assign it in resulting data.",22]]`},
		{legacyQuerySchema, `[]`, `{"select":[["id",1]]}`, `[["query-options","['id', 1]: second item must be a string.",22]]`},
		{legacyQuerySchema, `[]`, `{"select":[{"a":null}]}`, `[["query-options","{'a': None}: selectors must be either a parameter name as a string or a list containing two items [\u003cparameter name\u003e, \u003cas name\u003e] to emulate SELECT \u003cparameter name\u003e AS \u003cas name\u003e.",22]]` /* jsonString escapes < and > */},
	} {
		out, err := filterList(docs, json.RawMessage(tc.filters), json.RawMessage(tc.options), tc.model)
		got := jsonString(out)
		if err != nil {
			switch e := err.(type) {
			case ValidationErrors:
				var triples [][]any
				for i := range e {
					triples = append(triples, e[i].triple())
				}
				got = jsonString(triples)
			case *Exception:
				got = e.Type + ": " + e.Message
			default:
				got = err.Error()
			}
		}
		if got != tc.want {
			t.Errorf("%s %s: got %s, want %s", tc.filters, tc.options, got, tc.want)
		}
	}
}
