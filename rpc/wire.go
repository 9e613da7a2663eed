package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// request is a JSON-RPC 2.0 request as the client sends it.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int64  `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// frame is any message the server sends: a response (ID set, Result or
// Error) or a notification (Method set).
type frame struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`

	// Set by the legacy decoder instead of Params.
	ev    *Event
	unsub *unsubscribed
	subs  []int64
}

// isResponse reports a response frame; numID is its id when numeric.
func (f *frame) response() (numID int64, ok bool) {
	if f.Method != "" || len(f.ID) == 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(string(f.ID), 10, 64)
	if err != nil {
		return 0, true // null or string id: a response, not ours by number
	}
	return id, true
}

// Event is one collection_update notification.
type Event struct {
	// Msg is "added", "changed" or "removed".
	Msg string `json:"msg"`
	// Collection is the event name subscribed to (core.get_jobs, ...).
	Collection string `json:"collection"`
	// ID is the object's id (a job id for core.get_jobs).
	ID json.RawMessage `json:"id,omitempty"`
	// Fields are the changed fields of the object.
	Fields json.RawMessage `json:"fields,omitempty"`
	// Extra holds any other keyword the server sent.
	Extra json.RawMessage `json:"extra,omitempty"`
}

// unsubscribed is notify_unsubscribed's params.
type unsubscribed struct {
	Collection string     `json:"collection"`
	Error      *ErrorData `json:"error"`
}

// decodeFrame parses one server frame. It never panics and rejects what
// is not a JSON-RPC 2.0 object.
func decodeFrame(data []byte) (*frame, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, protoErr("frame is not a JSON object", data)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, protoErr("malformed JSON: "+err.Error(), data)
	}
	if f.Method == "" && len(f.ID) == 0 {
		return nil, protoErr("frame is neither a response nor a notification", data)
	}
	if f.Method == "" && f.Error == nil && f.Result == nil {
		// A result of JSON null decodes to a nil RawMessage only when
		// the key is missing.
		if !bytes.Contains(data, []byte(`"result"`)) {
			return nil, protoErr("response without result or error", data)
		}
		f.Result = json.RawMessage("null")
	}
	return &f, nil
}

// decodeEvent parses collection_update params.
func decodeEvent(params json.RawMessage) (*Event, error) {
	var ev Event
	if err := json.Unmarshal(params, &ev); err != nil {
		return nil, protoErr("malformed collection_update: "+err.Error(), params)
	}
	if ev.Collection == "" {
		return nil, protoErr("collection_update without collection", params)
	}
	return &ev, nil
}

func protoErr(reason string, data []byte) error {
	if len(data) > 256 {
		data = data[:256]
	}
	return &ProtocolError{Reason: reason, Frame: string(data)}
}

// Time is the middleware's {"$date": milliseconds} timestamp.
type Time struct{ time.Time }

// UnmarshalJSON reads {"$date": ms} (or null).
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var d struct {
		Date *json.Number `json:"$date"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	if d.Date == nil {
		return errors.New(`rpc: timestamp without "$date"`)
	}
	ms, err := d.Date.Float64()
	if err != nil {
		return err
	}
	t.Time = time.UnixMilli(int64(ms)).UTC()
	return nil
}

// MarshalJSON writes {"$date": ms}, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`{"$date":` + strconv.FormatInt(t.UnixMilli(), 10) + `}`), nil
}
