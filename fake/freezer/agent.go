package freezer

import (
	"encoding/json"
	"strconv"
	"time"
)

// The simulated Freezer scheduler agent (openstack/freezer
// freezer/scheduler/scheduler_job.py): it sees an event PickupDelay after
// the API recorded it, and moves the job through the states its StopState,
// ScheduledState and RunningState give:
//
//   start while stopped: event "", status scheduled; the run starts
//   StartDelay later (or at schedule_date), then status running,
//   time_started; after the actions, result success/fail, time_ended, and
//   status scheduled with the next run one schedule_interval later, or
//   completed for a one-off job.
//   stop or abort while scheduled: event "", status stop.
//   stop while running: the run ends, then status completed.
//   abort while running: status aborting, then result aborted, completed.
//   start while scheduled or running: event "" (no extra run).

// autostartLocked plays the agent's Job.create for a new job: no event and
// not stopped means start.
func (b *Backend) autostartLocked(j *job) {
	if !b.auto {
		return
	}
	sched, ok := j.doc["job_schedule"].(map[string]any)
	if !ok || (sched["event"] != nil && sched["event"] != "") || sched["status"] == "stop" {
		return
	}
	sched["event"] = "start"
	b.pickupLocked(j)
}

func (b *Backend) pickupLocked(j *job) {
	if b.closed {
		return
	}
	if j.pickupTimer != nil {
		j.pickupTimer.Stop()
	}
	id := j.id
	j.pickupTimer = b.env.Clock.AfterFunc(PickupDelay, func() { b.pickup(id) })
}

// live is job id and its job_schedule, for an agent step that runs now;
// nil when the job is gone, has no schedule object, or the backend closed.
func (b *Backend) live(id string) (*job, map[string]any) {
	j := b.jobs[id]
	if j == nil || b.closed {
		return nil, nil
	}
	sched, ok := j.doc["job_schedule"].(map[string]any)
	if !ok {
		return nil, nil
	}
	return j, sched
}

func setNum(m map[string]any, k string, v int64) { m[k] = json.Number(strconv.FormatInt(v, 10)) }

// pickup is the agent seeing job id's event (whatever is current when it
// looks).
func (b *Backend) pickup(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, sched := b.live(id)
	if j == nil {
		return
	}
	j.pickupTimer = nil
	ev, _ := sched["event"].(string)
	switch j.agent {
	case agentStopped:
		sched["event"] = ""
		if ev == "start" {
			b.scheduleLocked(j, sched, true)
		} else if ev == "stop" || ev == "abort" {
			sched["status"] = "stop"
		}
	case agentScheduled:
		switch ev {
		case "stop", "abort":
			if j.timer != nil {
				j.timer.Stop()
				j.timer = nil
			}
			j.agent = agentStopped
			sched["event"] = ""
			sched["status"] = "stop"
		case "start":
			sched["event"] = ""
		}
	case agentRunning:
		switch ev {
		case "start":
			sched["event"] = ""
		case "abort":
			sched["status"] = "aborting"
			if j.timer != nil {
				j.timer.Stop()
			}
			j.timer = b.env.Clock.AfterFunc(PickupDelay, func() { b.finish(id, ResultAborted) })
		}
	}
}

// scheduleLocked plans the next run: schedule_date, schedule_interval, or
// (no schedule) a few seconds from now. Not modelled: cron fields alone.
// The real agent's get_schedule_args gives them an APScheduler cron
// trigger (schedule_hour "3": every day at 03:00:00); the fake completes
// such a job without a run, as the agent does with a schedule it cannot
// use.
func (b *Backend) scheduleLocked(j *job, sched map[string]any, first bool) {
	now := b.env.Clock.Now()
	var at time.Time
	date, _ := sched["schedule_date"].(string)
	interval, _ := sched["schedule_interval"].(string)
	_, isInterval := parseInterval(interval)
	hasCron := false
	for _, k := range []string{"schedule_year", "schedule_month", "schedule_day", "schedule_week", "schedule_day_of_week", "schedule_hour", "schedule_minute", "schedule_second"} {
		if _, ok := sched[k]; ok {
			hasCron = true
		}
	}
	switch {
	case date != "":
		t, err := parseDate(date)
		if err != nil || !t.After(now) {
			j.agent = agentStopped
			sched["status"] = "completed"
			return
		}
		at = t
	case isInterval:
		if first {
			at = now.Add(StartDelay)
		} else {
			secs, _ := parseInterval(interval)
			at = now.Add(time.Duration(secs) * time.Second)
		}
	case hasCron:
		j.agent = agentStopped
		sched["status"] = "completed"
		return
	default:
		at = now.Add(StartDelay)
	}
	j.agent = agentScheduled
	sched["status"] = "scheduled"
	id := j.id
	if j.timer != nil {
		j.timer.Stop()
	}
	j.timer = b.env.Clock.AfterFunc(at.Sub(now), func() { b.run(id) })
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Parse("2006-01-02T15:04:05Z07:00", s)
}

func (b *Backend) run(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, sched := b.live(id)
	if j == nil || j.agent != agentScheduled {
		return
	}
	// The agent's Job.execute: status running, result "", time_started
	// now, time_ended -1; then each action stores its process id.
	j.agent = agentRunning
	sched["status"] = "running"
	sched["result"] = ""
	setNum(sched, "time_started", b.env.Clock.Now().Unix())
	setNum(sched, "time_ended", -1)
	b.pid++
	setNum(sched, "current_pid", b.pid)
	n := 1
	if acts, ok := j.doc["job_actions"].([]any); ok && len(acts) > 0 {
		n = len(acts)
	}
	res := ResultSuccess
	if r, ok := b.results[id]; ok {
		res = r
	}
	j.timer = b.env.Clock.AfterFunc(time.Duration(n)*b.duration, func() { b.finish(id, res) })
}

// finish ends job id's run with res.
func (b *Backend) finish(id string, res Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, sched := b.live(id)
	if j == nil || j.agent != agentRunning {
		return
	}
	j.timer = nil
	sched["result"] = string(res)
	b.endSessionLocked(j, res)
	if res == ResultSuccess {
		b.recordBackupsLocked(j)
	}
	setNum(sched, "time_ended", b.env.Clock.Now().Unix())
	// current_pid stays: the agent never clears it (the api-ref sample
	// shows a scheduled job with its last run's pid).
	ev, _ := sched["event"].(string)
	interval, _ := sched["schedule_interval"].(string)
	_, recurring := parseInterval(interval)
	date, _ := sched["schedule_date"].(string)
	if date != "" {
		recurring = false
	}
	switch {
	case ev == "stop" || ev == "abort" || res == ResultAborted:
		sched["event"] = ""
		sched["status"] = "completed"
		j.agent = agentStopped
	case recurring:
		b.scheduleLocked(j, sched, false)
	default:
		sched["status"] = "completed"
		j.agent = agentStopped
	}
}

// runSessionJobLocked is the agent running a job whose session start it
// was granted: PickupDelay later it starts the job as a start event would.
func (b *Backend) runSessionJobLocked(id string) {
	j, _ := b.live(id)
	if j == nil || j.agent != agentStopped || b.closed {
		return
	}
	if j.pickupTimer != nil {
		j.pickupTimer.Stop()
	}
	j.pickupTimer = b.env.Clock.AfterFunc(PickupDelay, func() {
		b.mu.Lock()
		j, sched := b.live(id)
		if j != nil && j.agent == agentStopped {
			sched["event"] = "start"
			sched["status"] = ""
			sched["result"] = ""
			j.pickupTimer = nil
			b.mu.Unlock()
			b.pickup(id)
			return
		}
		b.mu.Unlock()
	})
}

// endSessionLocked is the agent reporting a session job's end to its
// session ({"end": {"job_id", "result"}}).
func (b *Backend) endSessionLocked(j *job, res Result) {
	sid, _ := j.doc["session_id"].(string)
	if sid == "" {
		return
	}
	for _, s := range b.sessions {
		if s.id == sid && s.user == j.user {
			b.endSessionJobLocked(s, j.id, string(res), b.env.Clock.Now().Unix())
		}
	}
}

// recordBackupsLocked is the agent reporting what a successful run's
// backup actions produced (POST .../backups, as freezer's agent does
// after a backup): container, hostname (the job's client_id),
// backup_name, job_id, time_stamp, level and the action's mode and path.
func (b *Backend) recordBackupsLocked(j *job) {
	acts, _ := j.doc["job_actions"].([]any)
	now := b.env.Clock.Now().Unix()
	for _, a := range acts {
		am, _ := a.(map[string]any)
		fa, _ := am["freezer_action"].(map[string]any)
		if fa["action"] != "backup" {
			continue
		}
		meta := map[string]any{}
		for _, k := range []string{"container", "backup_name", "mode", "path_to_backup", "storage"} {
			if v, ok := fa[k]; ok {
				meta[k] = v
			}
		}
		if meta["container"] == nil || meta["backup_name"] == nil {
			continue // the server would refuse the report (Bad Data Format)
		}
		meta["hostname"] = j.doc["client_id"]
		meta["job_id"] = j.id
		meta["time_stamp"] = json.Number(strconv.FormatInt(now, 10))
		meta["level"] = json.Number("0")
		sh := (&shape{}).add("container", "hostname", "backup_name", "job_id", "time_stamp", "level", "mode", "path_to_backup", "storage")
		name := ""
		for _, u := range b.env.Users() {
			if u.ID == j.user {
				name = u.Name
			}
		}
		b.backups = append(b.backups, &backup{id: hexID(), user: j.user, project: j.project, userName: name, meta: meta, sh: sh})
	}
}
