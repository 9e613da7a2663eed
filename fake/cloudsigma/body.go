package cloudsigma

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// maxBody is the largest request body the fake reads.
const maxBody = 1 << 20

// fieldError is a validation error on one field of a request body.
type fieldError struct {
	point, msg string
}

func (e *fieldError) Error() string { return e.point + ": " + e.msg }

// readBody reads a request body: nil when empty, else a JSON object or
// list (numbers kept as json.Number, so large sizes do not lose bytes).
func readBody(r *http.Request) (any, error) {
	return decodeBody(http.MaxBytesReader(nil, r.Body, maxBody))
}

// decodeBody decodes one JSON value from rd; an empty (or blank) body is
// nil. Anything after the value but white space is an error.
func decodeBody(rd io.Reader) (any, error) {
	raw, err := io.ReadAll(io.LimitReader(rd, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxBody {
		return nil, errors.New("request body is larger than 1 MiB")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	switch v.(type) {
	case map[string]any, []any:
		return v, nil
	}
	return nil, errors.New("request body is not a JSON object or list")
}

// objectOf is body as one object ({} when empty).
func objectOf(body any) (map[string]any, error) {
	switch v := body.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return v, nil
	}
	return nil, errBadRequest
}

// objectsOf returns the objects of a create (or bulk delete) body:
// {"objects": [...]}, a bare list, or one bare object.
func objectsOf(body any) ([]map[string]any, error) {
	var list []any
	switch v := body.(type) {
	case map[string]any:
		raw, ok := v["objects"]
		if !ok {
			return []map[string]any{v}, nil
		}
		if list, ok = raw.([]any); !ok {
			return nil, errBadRequest
		}
	case []any:
		list = v
	default:
		return nil, errBadRequest
	}
	out := make([]map[string]any, 0, len(list))
	for _, o := range list {
		om, ok := o.(map[string]any)
		if !ok {
			return nil, errBadRequest
		}
		out = append(out, om)
	}
	return out, nil
}

// str reads a string field; a present field of another type is an error.
func str(m map[string]any, k string) (string, bool, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, &fieldError{k, "Expected a string."}
	}
	return s, true, nil
}

// num reads a whole number field given as a JSON number or as a string of
// digits ("1024000000"), as CloudSigma accepts both.
func num(m map[string]any, k string) (int64, bool, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return 0, false, nil
	}
	bad := &fieldError{k, "Enter a whole number."}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
			return 0, false, bad
		}
		return int64(x), true, nil
	default:
		return 0, false, bad
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return 0, false, bad
		}
		n = int64(f)
	}
	return n, true, nil
}

// boolean reads a boolean field; "true" and "false" strings are taken too.
func boolean(m map[string]any, k string) (bool, bool, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return false, false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case string:
		switch strings.ToLower(x) {
		case "true", "1":
			return true, true, nil
		case "false", "0":
			return false, true, nil
		}
	}
	return false, false, &fieldError{k, "Expected a boolean."}
}

// object reads an object field (null counts as absent).
func object(m map[string]any, k string) (map[string]any, bool, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, false, nil
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		return nil, false, &fieldError{k, "Expected an object."}
	}
	return o, true, nil
}

// refs reads a list of references, each a bare uuid or {"uuid": ...}.
func refs(m map[string]any, k string) ([]string, bool, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, false, nil
	}
	list, isList := v.([]any)
	if !isList {
		return nil, false, &fieldError{k, "Expected a list."}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		id := refUUID(x)
		if id == "" {
			return nil, false, &fieldError{k, fmt.Sprintf("Invalid reference %v.", x)}
		}
		out = append(out, id)
	}
	return out, true, nil
}

func refURI(kind, uuid string) map[string]any {
	return map[string]any{"resource_uri": Prefix + kind + "/" + uuid + "/", "uuid": uuid}
}

func refList(kind string, ids []string) []any {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, refURI(kind, id))
	}
	return out
}

// refUUID reads a reference given as a bare uuid, a resource URI or
// {"uuid": ...}.
func refUUID(v any) string {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, Prefix) {
			_, id := splitURI(x)
			return id
		}
		return x
	case map[string]any:
		s, _ := x["uuid"].(string)
		if s == "" {
			if u, ok := x["resource_uri"].(string); ok {
				_, s = splitURI(u)
			}
		}
		return s
	}
	return ""
}

// permError is a refusal of a well-formed request: 403 permission.
type permError struct{ msg string }

func (e *permError) Error() string { return e.msg }

// validationErr writes err as CloudSigma's validation error list (a
// permError as its 403 permission error).
func validationErr(w http.ResponseWriter, err error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		writeErr(w, http.StatusBadRequest, "validation", fe.point, fe.msg)
		return
	}
	var pe *permError
	if errors.As(err, &pe) {
		writeErr(w, http.StatusForbidden, "permission", "", pe.msg)
		return
	}
	writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not valid JSON: "+err.Error())
}

// readObjects reads a request body that must hold a list of objects (a
// bare list or {"objects": [...]}); on failure it answers CloudSigma's
// validation error, "objects must be a list of <what>", and reports false.
func readObjects(w http.ResponseWriter, r *http.Request, what string) ([]map[string]any, bool) {
	body, err := readBody(r)
	if err != nil {
		validationErr(w, err)
		return nil, false
	}
	objs, err := objectsOf(body)
	if err != nil || body == nil {
		writeErr(w, http.StatusBadRequest, "validation", "objects", "objects must be a list of "+what)
		return nil, false
	}
	return objs, true
}

// readObject reads a request body that must hold one object (an action's
// or a PUT's); an empty body is {} unless required. On failure it answers
// CloudSigma's validation error and reports false.
func readObject(w http.ResponseWriter, r *http.Request, required bool) (map[string]any, bool) {
	body, err := readBody(r)
	if err != nil {
		validationErr(w, err)
		return nil, false
	}
	m, err := objectOf(body)
	if err != nil || (required && body == nil) {
		writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
		return nil, false
	}
	return m, true
}
