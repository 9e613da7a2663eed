package upload_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/jobs"
)

// wsConn is a minimal JSON-RPC connection for these tests: one call at a
// time, jobs fetched with core.get_jobs. It keeps package upload's tests
// independent of package rpc; real programs use rpc.Dial.
type wsConn struct {
	mu   sync.Mutex
	c    *websocket.Conn
	next int
}

type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("rpc error %d: %s %s", e.Code, e.Message, e.Data)
}

func dialWS(url, apiKey string) (*wsConn, error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	w := &wsConn{c: c}
	var ok bool
	if err := w.Call(context.Background(), "auth.login_with_api_key", []any{apiKey}, &ok); err != nil {
		c.Close()
		return nil, err
	}
	if !ok {
		c.Close()
		return nil, fmt.Errorf("login refused")
	}
	return w, nil
}

func (w *wsConn) Close() error { return w.c.Close() }

func (w *wsConn) Call(ctx context.Context, method string, params []any, result any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	id := w.next
	if params == nil {
		params = []any{}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = w.c.SetReadDeadline(dl)
	} else {
		_ = w.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	}
	if err := w.c.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return err
	}
	for {
		var f struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Result json.RawMessage `json:"result"`
			Error  *rpcError       `json:"error"`
		}
		if err := w.c.ReadJSON(&f); err != nil {
			return err
		}
		if f.Method != "" || string(f.ID) != strconv.Itoa(id) {
			continue
		}
		if f.Error != nil {
			return f.Error
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(f.Result, result)
	}
}

func (w *wsConn) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	nums := make([]int, 0, len(ids))
	for _, id := range ids {
		n, err := strconv.Atoi(id)
		if err != nil {
			continue
		}
		nums = append(nums, n)
	}
	var entries []json.RawMessage
	if err := w.Call(ctx, "core.get_jobs", []any{[]any{[]any{"id", "in", nums}}}, &entries); err != nil {
		return nil, err
	}
	out := make([]*jobs.Job, 0, len(entries))
	for _, raw := range entries {
		var e struct {
			ID       int    `json:"id"`
			Method   string `json:"method"`
			State    string `json:"state"`
			Error    string `json:"error"`
			Progress struct {
				Percent     *float64 `json:"percent"`
				Description string   `json:"description"`
			} `json:"progress"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		j := &jobs.Job{ID: strconv.Itoa(e.ID), Dialect: "truenas", Operation: e.Method, RawState: e.State,
			Message: e.Error, Raw: raw}
		switch e.State {
		case "WAITING":
			j.State = jobs.StateQueued
		case "RUNNING":
			j.State = jobs.StateRunning
		case "SUCCESS":
			j.State = jobs.StateSucceeded
		case "FAILED":
			j.State = jobs.StateFailed
		case "ABORTED":
			j.State = jobs.StateAborted
		default:
			j.State = jobs.StateUnknown
		}
		if e.Progress.Percent != nil {
			j.Progress = jobs.Progress{Percent: *e.Progress.Percent, Known: true, Description: e.Progress.Description}
		}
		out = append(out, j)
	}
	return out, nil
}

// jobResult decodes the "result" member of a job's raw entry.
func jobResult(j *jobs.Job, v any) error {
	var e struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(j.Raw, &e); err != nil {
		return err
	}
	return json.Unmarshal(e.Result, v)
}

// excType is the job's exc_info.type.
func excType(j *jobs.Job) string {
	var e struct {
		ExcInfo struct {
			Type string `json:"type"`
		} `json:"exc_info"`
	}
	_ = json.Unmarshal(j.Raw, &e)
	return e.ExcInfo.Type
}

var _ = strings.TrimSpace
