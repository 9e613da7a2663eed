package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/longrun/longrun/rest"
)

func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/2.0/jobs/" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"meta":{"total_count":1},"objects":[{"uuid":"%s","state":"started"}]}`, r.URL.Query().Get("uuid"))
	}))
	defer srv.Close()

	c, err := rest.New(srv.URL+"/api/2.0/", rest.WithBasicAuth("me@example.com", "secret"))
	if err != nil {
		panic(err)
	}
	var list struct {
		Objects []struct {
			UUID  string `json:"uuid"`
			State string `json:"state"`
		} `json:"objects"`
	}
	query := struct {
		UUID []string `url:"uuid,comma"`
	}{UUID: []string{"a", "b"}}
	if _, err := c.Do(context.Background(), http.MethodGet, "jobs/", query, nil, &list); err != nil {
		panic(err)
	}
	fmt.Println(list.Objects[0].UUID, list.Objects[0].State)

	_, err = c.Do(context.Background(), http.MethodGet, "nowhere/", nil, nil, nil)
	var apiErr *rest.APIError
	fmt.Println(errors.As(err, &apiErr), apiErr.StatusCode, errors.Is(err, rest.ErrNotFound))
	// Output:
	// a,b started
	// true 404 true
}
