package fake_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/longrun/longrun/fake"
)

// A program embeds the fake with New, which returns an error rather than
// failing a test or panicking.
func ExampleNew() {
	srv, err := fake.New(fake.Options{})
	if err != nil {
		fmt.Println("cannot start the fake:", err)
		return
	}
	defer srv.Close()
	resp, err := http.Get(srv.URL() + "/_fake/health")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 200 {"control":false,"status":"ok"}
}

// The control API under /_fake/ lets a test in any language step the
// fake's clock, script faults, end jobs, read the request log and reset.
func ExampleServer_controlAPI() {
	srv := fake.NewServer(nil, fake.Options{Control: true, ControlToken: "sesame"})
	defer srv.Close()

	post := func(route, body string) {
		req, _ := http.NewRequest("POST", srv.URL()+fake.ControlPrefix+route, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.ControlToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(route, resp.Status)
	}
	post("faults", `{"dialect":"cloudsigma","status":503,"times":1}`)
	req, _ := http.NewRequest("GET", srv.CloudSigmaURL()+"jobs/", nil)
	req.SetBasicAuth("admin@example.com", "secret")
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println("jobs", resp.Status)
	post("clock", `{"action":"advance","by":"10m"}`)
	for _, r := range srv.Requests() {
		fmt.Println("logged:", r.Dialect, r.Method, r.Path, r.Status)
	}
	post("reset", ``)
	fmt.Println("after reset:", len(srv.Requests()), "logged")
	// Output:
	// faults 201 Created
	// jobs 503 Service Unavailable
	// clock 200 OK
	// logged: cloudsigma GET /api/2.0/jobs/ 503
	// reset 200 OK
	// after reset: 0 logged
}
