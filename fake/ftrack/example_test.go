package ftrack_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/longrun/longrun/fake/ftrack"
	"github.com/longrun/longrun/fake/sim"
)

// The backend answers the wire protocol itself: a JSON list of operations
// in, a list of results out, errors in the server's own shape.
func Example() {
	b := ftrack.New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	mux := http.NewServeMux()
	b.Register(mux)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	post := func(key, body string) {
		req, _ := http.NewRequest("POST", hs.URL+"/api", strings.NewReader(body))
		req.Header.Set("ftrack-user", "admin")
		req.Header.Set("ftrack-api-key", key)
		req.Header.Set("content-type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(out))
	}
	post("1-longrunfakeapikey", `[{"action": "query", "expression": "select name from Location where name like \"ftrack.s%\""}]`)
	post("wrong", `[{"action": "query_server_information"}]`)
	// Output:
	// 200 [{"action":"query","data":[{"__entity_type__":"Location","id":"3a372bde-05bc-11e4-8908-20c9d081909b","name":"ftrack.server"}],"metadata":{"next":{"offset":null}}}]
	// 200 {"exception":"InvalidCredentialsError","content":"The supplied API key is not valid. API keys are created from Settings under the page API keys. The api key should be passed in the request header \"ftrack-api-key\".","error_code":null}
}
