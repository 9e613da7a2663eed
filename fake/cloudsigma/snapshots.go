package cloudsigma

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// Snapshots (snapshots.rst): point-in-time versions of a drive. POST
// /snapshots/ takes {"drive", "name"?, "meta"?} (or several in
// {"objects": [...]}) and answers 201 with the snapshot "creating"; it is
// "available" SnapshotTime later. A snapshot is read, listed (list and
// detail are the same documents, filtered by name, uuid, tag and drive),
// renamed or given new meta with PUT, deleted alone or in bulk, and cloned
// to a new drive with POST /snapshots/{uuid}/action/?do=clone, which
// answers 202 with the drive (not wrapped in "objects", as
// dumps/response_snapshot_clone shows). A drive lists its snapshots in its
// "snapshots" field; deleting the drive deletes them.

// SnapshotTime is how long a snapshot stays "creating", in fake time.
const SnapshotTime = 30 * time.Second

// snapshotTimeLayout is the documented timestamp of a snapshot
// ("2014-06-05 09:52:53.896622+00:00").
const snapshotTimeLayout = "2006-01-02 15:04:05.000000-07:00"

type snapshot struct {
	uuid, drive, name, owner string
	meta                     map[string]any
	tags                     []string
	size                     int64 // the drive's size when it was taken
	media, storageType       string
	created                  time.Time
}

func (b *Backend) snapshotStatus(s *snapshot) string {
	if b.now().Before(s.created.Add(SnapshotTime)) {
		return "creating"
	}
	return "available"
}

func (b *Backend) snapshotDoc(s *snapshot) map[string]any {
	st := b.snapshotStatus(s)
	var allocated any
	if st == "available" {
		allocated = 0 // nothing written since: dumps/response_snapshot_list
	}
	return map[string]any{
		"allocated_size": allocated, "drive": refURI("drives", s.drive), "grantees": []any{}, "meta": s.meta,
		"name": s.name, "owner": refURI("user", s.owner), "permissions": []any{},
		"resource_uri": Prefix + "snapshots/" + s.uuid + "/", "status": st, "tags": refList("tags", s.tags),
		"timestamp": s.created.UTC().Format(snapshotTimeLayout), "uuid": s.uuid,
	}
}

// snapshotDocKeys are the fields of a snapshot's document.
var snapshotDocKeys = setOf("allocated_size", "drive", "grantees", "meta", "name", "owner", "permissions",
	"resource_uri", "status", "tags", "timestamp", "uuid")

// snapshotFilters are the schema's filters and the drive filter the
// documentation uses (dumps/request_snapshot_list_for_drive).
var snapshotFilters = map[string]bool{"name": true, "name__contains": true, "tag": true, "uuid": true, "drive": true}

// snapListing is a listing of snapshot documents whose drive filters by
// the drive's uuid.
type snapListing struct{ docListing }

func (l snapListing) text(i int, name string) string {
	if name == "drive" {
		if ref, ok := l.docListing[i]["drive"].(map[string]any); ok {
			return fmt.Sprint(ref["uuid"])
		}
	}
	return l.docListing.text(i, name)
}

func (b *Backend) serveSnapshots(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		switch {
		case r.Method == http.MethodPost && len(p) == 0:
			b.createSnapshots(w, r, u)
		case r.Method == http.MethodDelete && len(p) == 0:
			objs, ok := readObjects(w, r, "snapshots")
			if !ok {
				return
			}
			var del []string
			for _, o := range objs {
				id := refUUID(o)
				if s := b.snaps[id]; s == nil || s.owner != u.ID {
					notExist(w, id)
					return
				}
				del = append(del, id)
			}
			for _, id := range del {
				b.deleteSnapshotLocked(id)
			}
			noContent(w)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			var docs docListing
			for _, id := range b.snapOrder {
				if s := b.snaps[id]; s != nil && s.owner == u.ID {
					docs = append(docs, b.snapshotDoc(s))
				}
			}
			b.serveList(w, r, snapListing{docs}, snapshotDocKeys, snapshotFilters, resOrder, nil)
		default:
			methodNotAllowed(w, r, "GET", "POST", "DELETE")
		}
	case len(p) == 1:
		s, ok := b.snaps[p[0]]
		if !ok || s.owner != u.ID {
			notExist(w, p[0])
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, b.snapshotDoc(s))
		case http.MethodPut:
			m, ok := readObject(w, r, true)
			if !ok {
				return
			}
			name, hasName, err1 := str(m, "name")
			meta, hasMeta, err2 := object(m, "meta")
			tags, hasTags, err3 := refs(m, "tags")
			if err := cmpErr(err1, err2, err3); err != nil {
				validationErr(w, err)
				return
			}
			if hasName {
				s.name = name
			}
			if hasMeta {
				s.meta = meta
			}
			if hasTags {
				s.tags = tags
			}
			writeJSON(w, http.StatusOK, b.snapshotDoc(s))
		case http.MethodDelete:
			b.deleteSnapshotLocked(s.uuid)
			noContent(w)
		default:
			methodNotAllowed(w, r, "GET", "PUT", "DELETE")
		}
	case len(p) == 2 && p[1] == "action":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		s, ok := b.snaps[p[0]]
		if !ok || s.owner != u.ID {
			notExist(w, p[0])
			return
		}
		m, ok := readObject(w, r, false)
		if !ok {
			return
		}
		if do := r.URL.Query().Get("do"); do != "clone" {
			writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for snapshots", do))
			return
		}
		d, code, typ, point, msg := b.cloneSnapshotLocked(s, m, u)
		if d == nil {
			writeErr(w, code, typ, point, msg)
			return
		}
		writeJSON(w, http.StatusAccepted, b.driveDoc(d))
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// cmpErr is the first non-nil error of errs.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) createSnapshots(w http.ResponseWriter, r *http.Request, u sim.User) {
	objs, ok := readObjects(w, r, "snapshot definitions")
	if !ok {
		return
	}
	now := b.now()
	var made []*snapshot
	for _, o := range objs {
		name, _, err1 := str(o, "name")
		meta, _, err2 := object(o, "meta")
		tags, _, err3 := refs(o, "tags")
		if err := cmpErr(err1, err2, err3); err != nil {
			validationErr(w, err)
			return
		}
		id := refUUID(o["drive"])
		if id == "" {
			writeErr(w, http.StatusBadRequest, "validation", "drive", "This field is required.")
			return
		}
		d := b.drives[id]
		if d == nil || d.owner != u.ID {
			writeErr(w, http.StatusBadRequest, "validation", "drive", "Object with uuid "+id+" does not exist")
			return
		}
		if st := b.driveStatus(d); st == "creating" || st == "cloning_dst" || st == "resizing" || st == "uploading" || st == "unavailable" {
			writeErr(w, http.StatusForbidden, "permission", "", "Cannot snapshot drive "+id+" in status "+st)
			return
		}
		if name == "" {
			name = id + "__" + now.UTC().Format("2006-01-02__15_04_05")
		}
		if meta == nil {
			meta = map[string]any{}
		}
		made = append(made, &snapshot{uuid: b.newUUID("snapshot"), drive: id, name: name, owner: u.ID, meta: meta,
			tags: tags, size: d.size, media: d.media, storageType: d.storageType, created: now})
	}
	docs := make([]any, 0, len(made))
	for _, s := range made {
		if b.snaps == nil {
			b.snaps = map[string]*snapshot{}
		}
		b.snaps[s.uuid] = s
		b.snapOrder = append(b.snapOrder, s.uuid)
		if d := b.drives[s.drive]; d != nil {
			d.snaps = append(d.snaps, s.uuid)
			b.notifyDriveLocked(d)
		}
		docs = append(docs, b.snapshotDoc(s))
	}
	w.Header().Set("Location", Prefix+"snapshots/"+made[0].uuid+"/")
	writeJSON(w, http.StatusCreated, map[string]any{"objects": docs})
}

func (b *Backend) deleteSnapshotLocked(id string) {
	s := b.snaps[id]
	if s == nil {
		return
	}
	delete(b.snaps, id)
	if i := slices.Index(b.snapOrder, id); i >= 0 {
		b.snapOrder = slices.Delete(b.snapOrder, i, i+1)
	}
	if d := b.drives[s.drive]; d != nil {
		d.snaps = slices.DeleteFunc(d.snaps, func(x string) bool { return x == id })
		b.notifyDriveLocked(d)
	}
}

// cloneSnapshotLocked makes a drive of snapshot s: the snapshot's size
// and media, its name unless the body names the drive; a job clones it.
func (b *Backend) cloneSnapshotLocked(s *snapshot, m map[string]any, u sim.User) (d *drive, code int, typ, point, msg string) {
	if st := b.snapshotStatus(s); st != "available" {
		return nil, http.StatusForbidden, "permission", "", "Cannot clone snapshot " + s.uuid + " in status " + st
	}
	name, _, err1 := str(m, "name")
	media, _, err2 := str(m, "media")
	n, _, err3 := num(m, "size")
	aff, _, err4 := refs(m, "affinities")
	if err := cmpErr(err1, err2, err3, err4); err != nil {
		if fe, ok := err.(*fieldError); ok {
			return nil, http.StatusBadRequest, "validation", fe.point, fe.msg
		}
		return nil, http.StatusBadRequest, "validation", "", err.Error()
	}
	d = &drive{uuid: b.newUUID("drive"), name: s.name, size: s.size, media: s.media, status: "cloning_dst",
		storageType: s.storageType, owner: u.ID, meta: map[string]any{}, affinities: aff}
	if name != "" {
		d.name = name
	}
	if media != "" {
		if media != "disk" && media != "cdrom" {
			return nil, http.StatusBadRequest, "validation", "media", "Select a valid choice. " + media + " is not one of the available choices."
		}
		d.media = media
	}
	if n != 0 {
		if n < s.size {
			return nil, http.StatusBadRequest, "validation", "size", "Size of the cloned drive can only be bigger or the same"
		}
		d.size = roundSize(n)
	}
	now := b.now()
	j := &job{uuid: b.newUUID("job"), operation: "drive_clone", state: "started", owner: u.ID,
		created: now, modified: now, start: now, duration: cloneDuration(d.size), dst: d.uuid,
		resources: []string{Prefix + "snapshots/" + s.uuid + "/", Prefix + "drives/" + d.uuid + "/"}}
	b.addJobLocked(j)
	b.schedule(j.start.Add(j.duration/10), evJobStep, j.uuid, 1)
	b.schedule(j.start.Add(j.duration), evJobDone, j.uuid, 0)
	d.jobs = []string{j.uuid}
	b.addDriveLocked(d)
	b.notifyJobLocked(j)
	b.notifyDriveLocked(d)
	return d, 0, "", "", ""
}
