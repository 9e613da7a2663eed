// Command config-backup saves a TrueNAS configuration database through
// core.download and GET /_download, then uploads it back with
// config.upload through POST /_upload, showing progress bars for both
// streams and for the jobs behind them.
//
// By default it runs against longrun's in-process fake:
//
//	go run ./examples/config-backup
//
// Against a real TrueNAS box it only saves the configuration, unless
// -restore is given (config.upload reboots the box):
//
//	go run ./examples/config-backup -url https://nas.local -api-key 1-abc... [-user admin] [-insecure] [-out backup.db] [-restore]
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/internal/flagenv"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
	"github.com/longrun/longrun/upload"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "config-backup:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.CommandLine
	baseURL := flagenv.String(fs, "url", "", "TrueNAS URL such as https://nas.local, or its websocket (wss://nas/api/current, wss://old-nas/websocket) (empty: the in-process fake)", "TRUENAS_URL")
	apiKey := flagenv.Secret(fs, "api-key", "TrueNAS API key", "TRUENAS_API_KEY")
	user := flagenv.String(fs, "user", "", "user name the API key belongs to (for auth.login_ex and SCRAM)", "TRUENAS_USER")
	insecure := flag.Bool("insecure", false, "accept a self-signed TLS certificate")
	out := flag.String("out", "", "where to save the configuration (default: a file in the temp directory)")
	secrets := flag.Bool("secretseed", false, "save a tar with the password secret seed as well")
	restore := flag.Bool("restore", false, "upload the saved configuration back (always on with the fake; reboots a real box)")
	fakeMiB := flag.Int("fake-size", 4, "size of the fake's configuration database in MiB")
	timeout := flagenv.Duration(fs, "timeout", 10*time.Minute, "overall time limit")
	flag.Parse()

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *timeout)
	defer cancelT()

	var (
		srv    *fake.Server
		hc     = &http.Client{}
		rpcOpt []rpc.Option
		upOpts []upload.Option
	)
	if *baseURL == "" {
		srv = fake.NewServer(nil, fake.Options{})
		defer srv.Close()
		srv.TrueNASFiles().SetConfig(fakeDatabase(*fakeMiB << 20))
		*baseURL, *apiKey, *user = srv.URL(), "1-longrunfakeapikey", "admin"
		*restore = true
		upOpts = append(upOpts, upload.WithClock(srv.Clock()))
		fmt.Printf("using the in-process fake at %s\n", srv.URL())
	} else if *apiKey == "" {
		return errors.New("-api-key (or TRUENAS_API_KEY) is required with -url")
	}
	if *insecure {
		tc := &tls.Config{InsecureSkipVerify: true}
		hc.Transport = &http.Transport{TLSClientConfig: tc}
		rpcOpt = append(rpcOpt, rpc.WithTLSConfig(tc))
	}

	conn, err := rpc.Dial(ctx, *baseURL, append(rpcOpt, rpc.WithAPIKey(*user, *apiKey))...)
	if err != nil {
		return err
	}
	defer conn.Close()
	bar := &progressBar{w: os.Stdout}
	upOpts = append(upOpts,
		upload.WithAPIKey(*apiKey),
		upload.WithHTTPClient(hc),
		upload.WithProgress(bar.update),
		upload.WithWaitOptions(jobs.WithOnProgress(bar.jobLine)),
	)
	c, err := upload.New(*baseURL, conn, upOpts...)
	if err != nil {
		return err
	}

	// 1. Save: core.download("config.save", [options], filename) and GET.
	name := "truenas-config-" + time.Now().UTC().Format("20060102-150405") + ".db"
	options := map[string]any{}
	if *secrets {
		options["secretseed"] = true
		name = strings.TrimSuffix(name, ".db") + ".tar"
	}
	path := *out
	if path == "" {
		path = filepath.Join(os.TempDir(), name)
	}
	fmt.Printf("saving the configuration to %s\n", path)
	bar.start("download")
	res, err := c.DownloadFile(ctx, "config.save", []any{options}, name, path)
	bar.finish()
	if err != nil {
		return fmt.Errorf("saving: %w", err)
	}
	fmt.Printf("saved %s (%s) from job %s, %s\n", res.Filename, size(res.Bytes), res.JobID, res.Job.RawState)

	if !*restore {
		fmt.Println("not uploading it back (use -restore; config.upload reboots the box)")
		return nil
	}

	// 2. Restore: POST /_upload with data={"method": "config.upload"} and the file.
	file, err := upload.FromPath(path)
	if err != nil {
		return err
	}
	fmt.Printf("uploading %s back with config.upload\n", file.Name)
	bar.start("upload")
	up, err := c.Upload(ctx, "config.upload", nil, file)
	bar.finish()
	if err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	fmt.Printf("uploaded %s to job %s, %s\n", size(up.Bytes), up.JobID, up.Job.RawState)
	if srv != nil {
		saved, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(saved, srv.TrueNASFiles().Config()) {
			return errors.New("the fake's configuration differs from the saved file")
		}
		fmt.Println("the fake now runs the restored configuration; it would reboot now")
		if *out == "" {
			os.Remove(path)
		}
	}
	return nil
}

// fakeDatabase is a configuration database of about n bytes for the fake.
func fakeDatabase(n int) []byte {
	var b bytes.Buffer
	b.WriteString("SQLite format 3\x00")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "INSERT INTO account_bsdusers VALUES (%d, 'user%d', '/home/user%d');\n", i, i, i)
	}
	return b.Bytes()
}

// progressBar draws one line per transfer, redrawn in place.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	last  string
}

func (b *progressBar) start(label string) {
	b.mu.Lock()
	b.label, b.last = label, ""
	b.mu.Unlock()
}

func (b *progressBar) update(p upload.Progress) {
	var line string
	if f := p.Fraction(); f >= 0 {
		const width = 30
		n := int(f * width)
		line = fmt.Sprintf("%-8s [%s%s] %3.0f%% %s", b.label, strings.Repeat("#", n), strings.Repeat(".", width-n), 100*f, size(p.Done))
	} else {
		line = fmt.Sprintf("%-8s [%-30s] %s", b.label, strings.Repeat("=", int(p.Done>>20)%30)+">", size(p.Done))
	}
	b.draw(line)
}

func (b *progressBar) jobLine(j *jobs.Job) {
	desc := j.Progress.Description
	if desc == "" {
		desc = strings.ToLower(j.RawState)
	}
	b.draw(fmt.Sprintf("%-8s job %s %s: %.0f%% %s", b.label, j.ID, j.Operation, j.Progress.Percent, desc))
}

func (b *progressBar) draw(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if line == b.last {
		return
	}
	pad := ""
	if len(b.last) > len(line) {
		pad = strings.Repeat(" ", len(b.last)-len(line))
	}
	b.last = line
	fmt.Fprint(b.w, "\r"+line+pad)
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != "" {
		fmt.Fprintln(b.w)
	}
	b.last = ""
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
