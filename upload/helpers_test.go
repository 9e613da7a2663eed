package upload_test

import (
	"encoding/json"

	"github.com/longrun/longrun/jobs"
)

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
