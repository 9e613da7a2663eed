package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/rest"
)

type listOptions struct {
	Limit  int      `url:"limit,omitempty"`
	Offset int      `url:"offset,omitempty"`
	UUID   []string `url:"uuid,omitempty,comma"`
}

func newClient(t *testing.T, h http.HandlerFunc, opts ...rest.Option) *rest.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := rest.New(srv.URL+"/api/2.0", append([]rest.Option{rest.WithRetry(3, 0, 0)}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestDoBuildsTheRequestAndDecodes(t *testing.T) {
	var got *http.Request
	var body []byte
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Request-Id", "req-42")
		fmt.Fprint(w, `{"objects":[{"uuid":"a"}],"meta":{"total_count":1}}`)
	}, rest.WithBasicAuth("user@example.com", "pw"), rest.WithUserAgent("test-agent/1"))

	var out struct {
		Objects []struct{ UUID string } `json:"objects"`
	}
	resp, err := c.Do(context.Background(), http.MethodPost, "drives/x/action/",
		listOptions{Limit: 5, UUID: []string{"a", "b"}}, map[string]string{"name": "copy"}, &out)
	require.NoError(t, err)
	assert.Equal(t, "req-42", resp.RequestID)
	assert.Equal(t, "/api/2.0/drives/x/action/", got.URL.Path)
	assert.Equal(t, "a,b", got.URL.Query().Get("uuid"))
	assert.Equal(t, "5", got.URL.Query().Get("limit"))
	user, pw, ok := got.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "user@example.com", user)
	assert.Equal(t, "pw", pw)
	assert.Equal(t, "test-agent/1", got.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"name":"copy"}`, string(body))
	require.Len(t, out.Objects, 1)
	assert.Equal(t, "a", out.Objects[0].UUID)
}

func TestAPIErrorCarriesTheServiceFields(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "rid-7")
		w.WriteHeader(404)
		fmt.Fprint(w, `[{"error_point":null,"error_type":"notexist","error_message":"Object with uuid 1 does not exist"}]`)
	}, rest.WithErrorDecoder(func(e *rest.APIError, body []byte) {
		var list []struct {
			Type    string `json:"error_type"`
			Message string `json:"error_message"`
		}
		if json.Unmarshal(body, &list) == nil && len(list) > 0 {
			e.Type, e.Message, e.Details = list[0].Type, list[0].Message, list
		}
	}))
	_, err := c.Do(context.Background(), "GET", "jobs/1/", nil, nil, nil)
	var ae *rest.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 404, ae.StatusCode)
	assert.Equal(t, "rid-7", ae.RequestID)
	assert.Equal(t, "notexist", ae.Type)
	assert.True(t, errors.Is(err, rest.ErrNotFound))
	assert.False(t, errors.Is(err, rest.ErrServer))
	assert.False(t, ae.Temporary())
	assert.Contains(t, err.Error(), "Object with uuid 1 does not exist")
	assert.Contains(t, err.Error(), "rid-7")
}

func TestRetriesA503BurstOnGet(t *testing.T) {
	var n atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			w.WriteHeader(503)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	var out struct{ OK bool }
	_, err := c.Do(context.Background(), "GET", "x/", nil, nil, &out)
	require.NoError(t, err)
	assert.True(t, out.OK)
	assert.Equal(t, int32(4), n.Load())
}

func TestRetriesGiveUpWithTheLastAPIError(t *testing.T) {
	var n atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(503)
	})
	_, err := c.Do(context.Background(), "GET", "x/", nil, nil, nil)
	var ae *rest.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 503, ae.StatusCode)
	assert.True(t, ae.Temporary())
	assert.Equal(t, int32(4), n.Load(), "one try and three retries")
}

func TestPostIsRetriedOnlyWhenTheServerDidNotAct(t *testing.T) {
	for _, tc := range []struct {
		status int
		tries  int32
	}{{500, 1}, {502, 1}, {503, 4}, {429, 4}} {
		var n atomic.Int32
		c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(tc.status)
		})
		_, err := c.Do(context.Background(), "POST", "drives/", nil, map[string]int{"size": 1}, nil)
		require.Error(t, err)
		assert.Equal(t, tc.tries, n.Load(), "status %d", tc.status)
	}
}

func TestMalformedJSONIsADecodeError(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"objects": [`) })
	var out map[string]any
	_, err := c.Do(context.Background(), "GET", "x/", nil, nil, &out)
	var de *rest.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 200, de.StatusCode)
	assert.Contains(t, de.Snippet, `"objects"`)
}

func TestResponseSizeIsBounded(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 2048))
	}, rest.WithMaxResponseBytes(1024))
	_, err := c.Do(context.Background(), "GET", "x/", nil, nil, nil)
	require.ErrorIs(t, err, rest.ErrTooLarge)
}

func TestSecretsNeverReachErrors(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `go to %s`, r.URL.String())
	}, rest.WithErrorDecoder(func(e *rest.APIError, body []byte) { e.Message = string(body) }))
	_, err := c.Do(context.Background(), "GET", "_download/7?auth_token=s3cr3t-token&x=1", nil, nil, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t-token")
	assert.Contains(t, err.Error(), "REDACTED")

	// A connection failure names the URL too: still redacted.
	dead, err := rest.New("http://127.0.0.1:1/", rest.WithRetry(0, 0, 0))
	require.NoError(t, err)
	_, err = dead.Do(context.Background(), "GET", "x?apiKey=k3y&token=t0k", nil, nil, nil)
	var re *rest.RequestError
	require.ErrorAs(t, err, &re)
	assert.NotContains(t, err.Error(), "k3y")
	assert.NotContains(t, err.Error(), "t0k")
	assert.True(t, re.Temporary())
}

func TestStreamSendsOnceWithoutBuffering(t *testing.T) {
	var n atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		got, _ := io.Copy(io.Discard, r.Body)
		if n.Load() == 1 {
			w.WriteHeader(503)
			return
		}
		fmt.Fprintf(w, `{"read":%d}`, got)
	})
	pr, pw := io.Pipe()
	go func() {
		for range 4 {
			_, _ = pw.Write(make([]byte, 1<<16))
		}
		_ = pw.Close()
	}()
	u, err := c.URL("_upload", nil)
	require.NoError(t, err)
	_, err = c.Stream(context.Background(), "POST", u, "application/octet-stream", pr)
	var ae *rest.APIError
	require.ErrorAs(t, err, &ae, "a stream is never retried")
	assert.Equal(t, int32(1), n.Load())

	// Do with a plain io.Reader takes the same unretried streaming path.
	var out struct{ Read int }
	_, err = c.Do(context.Background(), "POST", "_upload", nil, io.LimitReader(zeroReader{}, 1<<20), &out)
	require.NoError(t, err)
	assert.Equal(t, 1<<20, out.Read)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestConnectionDroppedMidRequestWithHTTPMock(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c2, err := rest.New("https://zrh.cloudsigma.com/api/2.0/", rest.WithRetry(2, 0, 0), rest.WithHTTPClient(&http.Client{Transport: mock}))
	require.NoError(t, err)
	calls := 0
	mock.RegisterResponder("GET", "https://zrh.cloudsigma.com/api/2.0/jobs/", func(r *http.Request) (*http.Response, error) {
		calls++
		if calls < 3 {
			return nil, io.ErrUnexpectedEOF
		}
		return httpmock.NewStringResponse(200, `{"objects":[]}`), nil
	})
	mock.RegisterResponder("POST", "https://zrh.cloudsigma.com/api/2.0/drives/", httpmock.NewErrorResponder(io.ErrUnexpectedEOF))
	_, err = c2.Do(context.Background(), "GET", "jobs/", nil, nil, nil)
	require.NoError(t, err, "an idempotent GET survives two dropped connections")
	assert.Equal(t, 3, calls)

	_, err = c2.Do(context.Background(), "POST", "drives/", nil, map[string]any{}, nil)
	require.Error(t, err, "a POST that may have reached the server is not repeated")
	assert.Equal(t, 1, mock.GetCallCountInfo()["POST https://zrh.cloudsigma.com/api/2.0/drives/"])
}

func TestCancelledContextStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			cancel()
		}
		w.WriteHeader(503)
	})
	_, err := c.Do(ctx, "GET", "x/", nil, nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(1), n.Load())
}

func TestNewRejectsBadBaseURLs(t *testing.T) {
	_, err := rest.New("ftp://example.com/")
	require.Error(t, err)
	_, err = rest.New("http://[::1")
	require.Error(t, err)
	for _, o := range []rest.Option{rest.WithRetry(-1, 0, 0), rest.WithHTTPClient(nil), rest.WithMaxResponseBytes(0)} {
		_, err = rest.New("http://x/", o)
		require.Error(t, err)
	}
	c, err := rest.New("http://user:pw@host/api")
	require.NoError(t, err)
	u, err := c.URL("/v1/jobs", url.Values{"limit": {"10"}})
	require.NoError(t, err)
	assert.Equal(t, "http://user:pw@host/api/v1/jobs?limit=10", u.String())
	assert.NotContains(t, rest.RedactURL(u), "pw")
}

func TestPermanentTransportErrorsAreNotRetried(t *testing.T) {
	var hits atomic.Int32
	var c *rest.Client
	c = newClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound) // a redirect loop
	})
	_, err := c.Do(context.Background(), "GET", "loop/", nil, nil, nil)
	var re *rest.RequestError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "redirects")
	// net/http gives up after 10 redirects; retrying the loop four more
	// times would only repeat it.
	assert.LessOrEqual(t, int(hits.Load()), 11)
	assert.False(t, re.Temporary(), "a redirect loop does not pass by itself")
}

func TestTooLargeIsNotTemporary(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 2048))
	}, rest.WithMaxResponseBytes(1024))
	_, err := c.Do(context.Background(), "GET", "x/", nil, nil, nil)
	var re *rest.RequestError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, rest.ErrTooLarge)
	assert.False(t, re.Temporary(), "the same response will be as large next time")
}

func TestDecodeErrorSnippetHidesSecrets(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		// A server clone answer (it carries the new VNC password), cut short.
		fmt.Fprint(w, `{"name": "copy", "vnc_password" : "Vnc-S3cret", "auth_token":"tok-S3cret", "api_key": "key-S3cret`)
	})
	var out map[string]any
	_, err := c.Do(context.Background(), "POST", "servers/x/action/?do=clone", nil, nil, &out)
	var de *rest.DecodeError
	require.ErrorAs(t, err, &de)
	for _, s := range []string{err.Error(), de.Snippet} {
		assert.NotContains(t, s, "S3cret")
		assert.Contains(t, s, "copy")
		assert.Contains(t, s, "REDACTED")
	}
}

func TestMalformedURLErrorsHideSecrets(t *testing.T) {
	_, err := rest.New("https://admin:pw-S3cret@zrh.example.com/api/%zz")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "S3cret")

	c, err := rest.New("https://zrh.example.com/api/2.0/")
	require.NoError(t, err)
	_, err = c.URL("%zz/1?auth_token=tok-S3cret", nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "S3cret")
	// Do fails the same way, before any request.
	_, err = c.Do(context.Background(), "GET", "%zz/1?auth_token=tok-S3cret", nil, nil, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "S3cret")
}

func TestRetryAfterPastTheDeadlineReturnsTheAnswerAtOnce(t *testing.T) {
	var hits atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(503)
	})
	// Retrying would mean waiting a minute, past the caller's deadline:
	// the caller gets the 503 and its Retry-After now, to act on.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := c.Do(ctx, "GET", "x/", nil, nil, nil)
	var ae *rest.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 503, ae.StatusCode)
	assert.Equal(t, time.Minute, ae.RetryAfter())
	assert.Equal(t, int32(1), hits.Load())
}
