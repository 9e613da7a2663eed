package truenas

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// Durations of the built-in jobs in fake time.
const (
	// CopyStep and CopySteps: filesystem.copy reports progress every
	// CopyStep, CopySteps times.
	CopyStep  = 3 * time.Second
	CopySteps = 20
	// CopyBytes is the size the fake pretends to copy.
	CopyBytes = 2000000
	// SyncStep and SyncSteps pace catalog.sync.
	SyncStep  = 2 * time.Second
	SyncSteps = 10
	// ScrubStep and ScrubSteps pace pool.scrub and pool.scrub.scrub.
	ScrubStep  = 5 * time.Second
	ScrubSteps = 10
	// BackupStep and BackupSteps pace cloud_backup.sync.
	BackupStep  = 4 * time.Second
	BackupSteps = 5
)

func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (b *Backend) registerJobs() {
	// filesystem.copy(src, dst, options): the docs' example job. A src
	// outside /mnt fails validation; a src containing "missing" fails
	// with FileNotFoundError.
	b.RegisterJobMethod("filesystem.copy", JobMethod{
		Abortable: true,
		Description: func(p []json.RawMessage) string {
			return fmt.Sprintf("Copying %s to %s", rawString(param(p, 0)), rawString(param(p, 1)))
		},
		Run: func(r *JobRun) (any, error) {
			var src, dst string
			r.Param(0, &src)
			r.Param(1, &dst)
			var verrs ValidationErrors
			if !strings.HasPrefix(src, "/mnt/") {
				verrs = append(verrs, ValidationError{Attribute: "filesystem.copy.src", Message: "Path must reside within a pool mount point"})
			}
			if !strings.HasPrefix(dst, "/mnt/") {
				verrs = append(verrs, ValidationError{Attribute: "filesystem.copy.dst", Message: "Path must reside within a pool mount point"})
			}
			if len(verrs) > 0 {
				return nil, verrs
			}
			if strings.Contains(src, "missing") {
				return nil, &Exception{Type: "FileNotFoundError", Message: fmt.Sprintf("[Errno 2] No such file or directory: '%s'", src)}
			}
			for i := 1; i <= CopySteps; i++ {
				if err := r.Sleep(CopyStep); err != nil {
					return nil, err
				}
				done := CopyBytes * i / CopySteps
				r.SetProgress(float64(100*i/CopySteps), fmt.Sprintf("Copied %d of %d bytes", done, CopyBytes), nil)
			}
			return true, nil
		},
	})
	// catalog.sync (plugins/catalog/sync.py): @job(lock=
	// 'official_catalog_sync'), lock_queue_size 1 from 25.10 (the
	// default 5 before), no logs; it reports 5 %, 15 % and 100 %.
	sync := JobMethod{
		Lock:          func([]json.RawMessage) string { return "official_catalog_sync" },
		LockQueueSize: &b.catalogQueue,
		Run: func(r *JobRun) (any, error) {
			r.SetProgress(5, "Updating catalog repository", nil)
			for i := 1; i <= SyncSteps; i++ {
				if err := r.Sleep(SyncStep); err != nil {
					return nil, err
				}
				if i == SyncSteps/2 {
					r.SetProgress(15, "Reading catalog information", nil)
				}
			}
			r.SetProgress(100, "Synced 'TRUENAS' catalog", nil)
			return nil, nil
		},
	}
	b.RegisterJobMethod("catalog.sync", sync)
	b.RegisterJobMethod("catalog.sync_all", sync)

	scrub := func(r *JobRun, name, action string) (any, error) {
		switch action {
		case "START", "STOP", "PAUSE":
		default:
			return nil, &ValidationError{Attribute: "action", Message: "Input should be 'START', 'STOP' or 'PAUSE'"}
		}
		if action != "START" {
			return nil, nil
		}
		// plugins/pool_/scrub.py polls zfs.pool.scrub_state: 'Scrubbing'
		// at the scan's percentage, then 100 'Scrub finished'.
		for i := 1; i < ScrubSteps; i++ {
			if err := r.Sleep(ScrubStep); err != nil {
				return nil, err
			}
			r.SetProgress(float64(100*i/ScrubSteps), "Scrubbing", nil)
		}
		if err := r.Sleep(ScrubStep); err != nil {
			return nil, err
		}
		r.SetProgress(100, "Scrub finished", nil)
		return nil, nil
	}
	// pool.scrub(oid, action) is transient (forgotten at its end; events
	// up to 25.10 only) and, as plugins/pool_/pool_operations.py's scrub,
	// starts a pool.scrub.scrub job on the pool's name and wraps it
	// (job.wrap: its progress mirrored, CallError forwarded, other errors
	// a CallError). The fake's pool of id N is named "poolN".
	b.RegisterJobMethod("pool.scrub", JobMethod{
		Transient: true,
		Run: func(r *JobRun) (any, error) {
			var oid int
			var action string
			r.Param(0, &oid)
			r.Param(1, &action)
			switch action {
			case "START", "STOP", "PAUSE":
			default:
				return nil, &ValidationError{Attribute: "action", Message: "Input should be 'START', 'STOP' or 'PAUSE'"}
			}
			sub, launch, err := r.startSubjob("pool.scrub.scrub", fmt.Sprintf("pool%d", oid), action)
			if err != nil {
				return nil, err
			}
			return b.wrap(r, sub, launch)
		},
	})
	// pool.scrub.scrub(name, action="START") is locked per pool and action.
	b.RegisterJobMethod("pool.scrub.scrub", JobMethod{
		Description: func(p []json.RawMessage) string {
			action := "START"
			if a := param(p, 1); a != nil {
				action = rawString(a)
			}
			if action == "START" {
				return fmt.Sprintf("Scrub of pool '%s'", rawString(param(p, 0)))
			}
			return fmt.Sprintf("%s%s scrubbing pool '%s'", action[:1], strings.ToLower(action[1:]), rawString(param(p, 0)))
		},
		Lock: func(p []json.RawMessage) string {
			if len(p) == 0 {
				return ""
			}
			action := "START"
			if a := param(p, 1); a != nil {
				action = rawString(a)
			}
			return rawString(p[0]) + "-" + action
		},
		Run: func(r *JobRun) (any, error) {
			var name string
			action := "START"
			r.Param(0, &name)
			r.Param(1, &action)
			if name == "" {
				return nil, &CallError{Message: "Pool name is required", Errno: int(syscall.EINVAL)}
			}
			return scrub(r, name, action)
		},
	})
	// cloud_backup.sync(id, options) has lock_queue_size 1: while one runs
	// and one waits, a third call attaches to the waiting one.
	b.RegisterJobMethod("cloud_backup.sync", JobMethod{
		Abortable:     true,
		Logs:          true,
		Lock:          func(p []json.RawMessage) string { return "cloud_backup:" + string(param(p, len(p)-1)) },
		LockQueueSize: QueueSize(1),
		Run: func(r *JobRun) (any, error) {
			var id int
			r.Param(0, &id)
			if id <= 0 {
				return nil, &ValidationError{Attribute: "cloud_backup_sync.id", Message: fmt.Sprintf("Cloud backup task %d does not exist", id), Errno: int(syscall.ENOENT)}
			}
			for i := 1; i <= BackupSteps; i++ {
				if err := r.Sleep(BackupStep); err != nil {
					return nil, err
				}
				r.Log(fmt.Sprintf("snapshot %d/%d uploaded", i, BackupSteps))
				r.SetProgress(float64(100*i/BackupSteps), "Backing up", map[string]any{"files_done": i})
			}
			return nil, nil
		},
	})
}
