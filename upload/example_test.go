package upload_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/rpc"
	"github.com/longrun/longrun/upload"
)

// Save the configuration database through core.download.
func ExampleClient_Download() {
	// The in-process fake stands in for a TrueNAS box; a real program
	// dials its box's URL instead.
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	conn, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	c, err := upload.New(srv.URL(), conn, upload.WithAPIKey("1-longrunfakeapikey"), upload.WithClock(srv.Clock()))
	if err != nil {
		fmt.Println(err)
		return
	}

	var db bytes.Buffer
	res, err := c.Download(ctx, "config.save", []any{map[string]any{}}, "truenas.db", &db)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(res.Filename, res.Job.RawState, strings.HasPrefix(db.String(), "SQLite format 3"))
	// Output: truenas.db SUCCESS true
}

// Upload a file with filesystem.put and wait for the job.
func ExampleClient_Upload() {
	// The in-process fake stands in for a TrueNAS box; a real program
	// dials its box's URL instead.
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	conn, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	c, err := upload.New(srv.URL(), conn, upload.WithAPIKey("1-longrunfakeapikey"), upload.WithClock(srv.Clock()))
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := c.Upload(ctx, "filesystem.put", []any{"/mnt/tank/hello.txt", map[string]any{"mode": 0o644}},
		upload.FromReader("hello.txt", strings.NewReader("hello, TrueNAS\n")))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	stored, _ := srv.TrueNASFiles().ReadFile("/mnt/tank/hello.txt")
	fmt.Printf("%d bytes, job %s, stored %q\n", res.Bytes, res.Job.RawState, stored)
	// Output: 15 bytes, job SUCCESS, stored "hello, TrueNAS\n"
}

// Read a download as a stream; io.EOF comes only once the job succeeded.
func ExampleClient_OpenDownload() {
	// The in-process fake stands in for a TrueNAS box; a real program
	// dials its box's URL instead.
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	conn, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	c, err := upload.New(srv.URL(), conn, upload.WithAPIKey("1-longrunfakeapikey"), upload.WithClock(srv.Clock()))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.TrueNASFiles().WriteFile("/var/log/messages", []byte("line 1\nline 2\n"))

	s, err := c.OpenDownload(ctx, "filesystem.get", []any{"/var/log/messages"}, "messages")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer s.Close()
	data, err := io.ReadAll(s)
	fmt.Printf("%q %v %s\n", data, err, s.Result().Job.RawState)
	// Output: "line 1\nline 2\n" <nil> SUCCESS
}

// Each refusal of the middleware is a typed error.
func ExampleTransferError() {
	// The in-process fake stands in for a TrueNAS box; a real program
	// dials its box's URL instead.
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	conn, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	c, err := upload.New(srv.URL(), conn, upload.WithAPIKey("1-longrunfakeapikey"), upload.WithClock(srv.Clock()))
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = c.Upload(ctx, "config.nope", nil, upload.FromBytes("x", []byte("x")))
	var te *upload.TransferError
	fmt.Println(errors.Is(err, upload.ErrUnknownMethod), errors.As(err, &te) && te.StatusCode == 422)
	// Output: true true
}

// Progress of a transfer, as a writer wrapper.
func ExampleProgressWriter() {
	var seen []upload.Progress
	w := upload.ProgressWriter(io.Discard, "backup.db", 10, func(p upload.Progress) { seen = append(seen, p) })
	io.WriteString(w, "hello")
	io.WriteString(w, "world")
	for _, p := range seen {
		fmt.Printf("%s %d/%d %.0f%%\n", p.Name, p.Done, p.Total, 100*p.Fraction())
	}
	// Output:
	// backup.db 5/10 50%
	// backup.db 10/10 100%
}
