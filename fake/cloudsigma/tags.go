package cloudsigma

import (
	"net/http"
	"slices"

	"github.com/longrun/longrun/fake/sim"
)

// Tags (tags.rst): named groups of a user's resources. A tag's
// "resources" are the drives and servers whose "tags" name it, so the two
// sides never disagree: POST /tags/ with "resources" and PUT /tags/{uuid}/
// with a new "resources" list rewrite those resources' tags, a PUT of a
// resource's "tags" moves it in or out, and DELETE /tags/{uuid}/ takes the
// tag off everything. GET /tags/{uuid}/{servers,drives}/ is the summary
// listing of that kind filtered by the tag (dumps/response_tags_list_resource);
// ips and vlans, which the fake does not serve, list empty.

type tag struct {
	uuid, name, owner string
	meta              map[string]any
}

// tagDocKeys are the fields of a tag's document.
var tagDocKeys = setOf("meta", "name", "owner", "resource_uri", "resources", "uuid")

func (b *Backend) tagDoc(t *tag) map[string]any {
	res := []any{}
	add := func(kind, id, owner string, tags []string) {
		if owner == t.owner && slices.Contains(tags, t.uuid) {
			res = append(res, map[string]any{"owner": refURI("user", owner), "res_type": kind,
				"resource_uri": Prefix + kind + "/" + id + "/", "uuid": id})
		}
	}
	for _, id := range b.driveOrder {
		if d := b.drives[id]; d != nil {
			add("drives", id, d.owner, d.tags)
		}
	}
	for _, id := range b.serverOrder {
		if s := b.servers[id]; s != nil {
			add("servers", id, s.owner, s.tags)
		}
	}
	return map[string]any{"meta": t.meta, "name": t.name, "owner": refURI("user", t.owner),
		"resource_uri": Prefix + "tags/" + t.uuid + "/", "resources": res, "uuid": t.uuid}
}

// setTagResourcesLocked makes ids (uuids of owner's drives and servers)
// the resources of tag t. An id that is none of them is an error, and
// then nothing changes.
func (b *Backend) setTagResourcesLocked(t *tag, ids []string) error {
	for _, id := range ids {
		d, s := b.drives[id], b.servers[id]
		if (d == nil || d.owner != t.owner) && (s == nil || s.owner != t.owner) {
			return &fieldError{"resources", "Object with uuid " + id + " does not exist"}
		}
	}
	b.untagLocked(t)
	for _, id := range ids {
		if d := b.drives[id]; d != nil && !slices.Contains(d.tags, t.uuid) {
			d.tags = append(slices.Clip(d.tags), t.uuid)
			b.notifyDriveLocked(d)
		}
		if s := b.servers[id]; s != nil && !slices.Contains(s.tags, t.uuid) {
			s.tags = append(slices.Clip(s.tags), t.uuid)
			b.notifyServerLocked(s)
		}
	}
	return nil
}

// untagLocked takes tag t off every drive and server.
func (b *Backend) untagLocked(t *tag) {
	drop := func(tags []string) []string {
		return slices.DeleteFunc(slices.Clone(tags), func(x string) bool { return x == t.uuid })
	}
	for _, d := range b.drives {
		if d.owner == t.owner && slices.Contains(d.tags, t.uuid) {
			d.tags = drop(d.tags)
			b.notifyDriveLocked(d)
		}
	}
	for _, s := range b.servers {
		if s.owner == t.owner && slices.Contains(s.tags, t.uuid) {
			s.tags = drop(s.tags)
			b.notifyServerLocked(s)
		}
	}
}

func (b *Backend) serveTags(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		switch {
		case r.Method == http.MethodPost && len(p) == 0:
			b.createTags(w, r, u)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			l := &resListing{}
			for _, id := range b.tagOrder {
				if t := b.tags[id]; t != nil && t.owner == u.ID {
					l.add(t.uuid, t.name, nil, func() map[string]any { return b.tagDoc(t) })
				}
			}
			b.serveList(w, r, l, tagDocKeys, map[string]bool{"name": true, "name__contains": true, "uuid": true}, resOrder, nil)
		default:
			methodNotAllowed(w, r, "GET", "POST")
		}
	case len(p) == 1 || len(p) == 2:
		t, ok := b.tags[p[0]]
		if !ok || t.owner != u.ID {
			notExist(w, p[0])
			return
		}
		if len(p) == 2 {
			b.serveTagged(w, r, u, t, p[1])
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, b.tagDoc(t))
		case http.MethodPut:
			m, ok := readObject(w, r, true)
			if !ok {
				return
			}
			name, hasName, err1 := str(m, "name")
			meta, hasMeta, err2 := object(m, "meta")
			res, hasRes, err3 := refs(m, "resources")
			if err := cmpErr(err1, err2, err3); err != nil {
				validationErr(w, err)
				return
			}
			if hasRes {
				if err := b.setTagResourcesLocked(t, res); err != nil {
					validationErr(w, err)
					return
				}
			}
			if hasName {
				t.name = name
			}
			if hasMeta {
				t.meta = meta
			}
			writeJSON(w, http.StatusOK, b.tagDoc(t))
		case http.MethodDelete:
			b.untagLocked(t)
			delete(b.tags, t.uuid)
			if i := slices.Index(b.tagOrder, t.uuid); i >= 0 {
				b.tagOrder = slices.Delete(b.tagOrder, i, i+1)
			}
			noContent(w)
		default:
			methodNotAllowed(w, r, "GET", "PUT", "DELETE")
		}
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// serveTagged serves GET /tags/{uuid}/{kind}/: kind's summary listing
// filtered by the tag.
func (b *Backend) serveTagged(w http.ResponseWriter, r *http.Request, u sim.User, t *tag, kind string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET")
		return
	}
	r2 := r.Clone(r.Context())
	q := r2.URL.Query()
	q.Set("tag", t.uuid)
	r2.URL.RawQuery = q.Encode()
	switch kind {
	case "drives":
		b.serveDrives(w, r2, u, nil)
	case "servers":
		b.serveServers(w, r2, u, nil)
	case "ips", "vlans":
		b.serveList(w, r2, docListing{}, map[string]bool{}, map[string]bool{"tag": true}, map[string]bool{}, nil)
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

func (b *Backend) createTags(w http.ResponseWriter, r *http.Request, u sim.User) {
	objs, ok := readObjects(w, r, "tag definitions")
	if !ok {
		return
	}
	type def struct {
		t   *tag
		res []string
	}
	var defs []def
	for _, o := range objs {
		name, hasName, err1 := str(o, "name")
		meta, _, err2 := object(o, "meta")
		res, _, err3 := refs(o, "resources")
		if err := cmpErr(err1, err2, err3); err != nil {
			validationErr(w, err)
			return
		}
		if !hasName {
			writeErr(w, http.StatusBadRequest, "validation", "name", "This field is required.")
			return
		}
		if meta == nil {
			meta = map[string]any{}
		}
		for _, id := range res {
			if d, s := b.drives[id], b.servers[id]; (d == nil || d.owner != u.ID) && (s == nil || s.owner != u.ID) {
				writeErr(w, http.StatusBadRequest, "validation", "resources", "Object with uuid "+id+" does not exist")
				return
			}
		}
		defs = append(defs, def{&tag{uuid: b.newUUID("tag"), name: name, owner: u.ID, meta: meta}, res})
	}
	docs := make([]any, 0, len(defs))
	for _, d := range defs {
		if b.tags == nil {
			b.tags = map[string]*tag{}
		}
		b.tags[d.t.uuid] = d.t
		b.tagOrder = append(b.tagOrder, d.t.uuid)
		_ = b.setTagResourcesLocked(d.t, d.res) // checked above
		docs = append(docs, b.tagDoc(d.t))
	}
	w.Header().Set("Location", Prefix+"tags/"+defs[0].t.uuid+"/")
	writeJSON(w, http.StatusCreated, map[string]any{"objects": docs})
}
