package cloudsigma

import (
	"fmt"
	"net/http"

	"github.com/longrun/longrun/fake/sim"
)

// Library drives (libdrives.rst): images every user may read and clone
// but nobody owns. They live among the drives with no owner, so GET
// /drives/{uuid}/ answers one with "owner": null as the documentation
// shows, while the drive listings (which list the caller's own drives)
// never do. GET /libdrives/ lists them with their library fields (the
// detailed listing is the same), POST /libdrives/{uuid}/action/?do=clone
// (or the drives' clone action) clones one into the caller's account, a
// CDROM may be attached to a server as it is, and a disk may not: it must
// be cloned first (403, as pycloudsigma's test_attaching_preinstalled
// expects).

// libInfo holds the fields only a library drive has.
type libInfo struct {
	arch, description, distribution, imageType, os, url, version string
	category                                                     []string
}

// libFilters are the documented filters of /libdrives/
// (dumps/response_libdrive_schema).
var libFilters = map[string]bool{"arch": true, "category": true, "distribution": true, "image_type": true,
	"name": true, "name__icontains": true, "os": true, "uuid": true, "version": true}

// seedLibraryLocked adds the fake's drives library, once per backend.
func (b *Backend) seedLibraryLocked() {
	for _, l := range []struct {
		name, media string
		size        int64
		info        libInfo
	}{
		{"Debian 12 Server", "disk", 10 * GiB, libInfo{"64", "Debian 12 (bookworm) - 64bit pre-installed with VirtIO support, SSH and cloud-init.",
			"Debian", "preinst", "linux", "https://www.debian.org/", "12", []string{"general"}}},
		{"Ubuntu 24.04 LTS Server", "disk", 10 * GiB, libInfo{"64", "Ubuntu 24.04 LTS (noble) - 64bit pre-installed with VirtIO support, SSH and cloud-init.",
			"Ubuntu", "preinst", "linux", "https://ubuntu.com/", "24.04", []string{"general", "webserver"}}},
		{"Debian 12 netinst", "cdrom", GiB / 2, libInfo{"64", "Debian 12 (bookworm) - 64bit network install CD.",
			"Debian", "install", "linux", "https://www.debian.org/", "12", []string{"general"}}},
	} {
		info := l.info
		b.addDriveLocked(&drive{uuid: b.newUUID("libdrive/" + l.name), name: l.name, media: l.media, size: l.size,
			storageType: "dssd", lib: &info})
	}
}

// libDoc is d's document at /libdrives/ (dumps/response_libdrive_get).
func (b *Backend) libDoc(d *drive) map[string]any {
	l := d.lib
	category := append([]string{}, l.category...)
	return map[string]any{
		"affinities": []string{}, "allow_multimount": false, "arch": l.arch, "category": category,
		"description": l.description, "distribution": l.distribution, "favourite": false, "image_type": l.imageType,
		"install_notes": "", "jobs": []any{}, "licenses": []any{}, "media": d.media, "meta": d.meta, "mounted_on": []any{},
		"name": d.name, "os": l.os, "owner": nil, "paid": false, "resource_uri": Prefix + "libdrives/" + d.uuid + "/",
		"size": d.size, "status": b.driveStatus(d), "storage_type": nil, "tags": []any{}, "url": l.url, "uuid": d.uuid,
		"version": l.version,
	}
}

// serveLibdrives serves /libdrives/: GET of the list, the detailed list
// (the same documents) and one drive, and the clone action.
func (b *Backend) serveLibdrives(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	if len(p) == 2 && p[1] == "action" {
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		src, ok := b.drives[p[0]]
		if !ok || src.lib == nil {
			notExist(w, p[0])
			return
		}
		m, ok := readObject(w, r, false)
		if !ok {
			return
		}
		if do := r.URL.Query().Get("do"); do != "clone" {
			writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for libdrives", do))
			return
		}
		d, code, msg := b.cloneDriveLocked(src, m, "", u)
		if d == nil {
			writeErr(w, code, map[int]string{400: "validation", 403: "permission"}[code], "", msg)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"objects": []any{b.driveDoc(d)}})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET")
		return
	}
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		var docs docListing
		for _, id := range b.driveOrder {
			if d := b.drives[id]; d != nil && d.lib != nil {
				docs = append(docs, b.libDoc(d))
			}
		}
		b.serveList(w, r, docs, libDocKeys, libFilters, map[string]bool{}, nil)
	case len(p) == 1:
		d, ok := b.drives[p[0]]
		if !ok || d.lib == nil {
			notExist(w, p[0])
			return
		}
		writeJSON(w, http.StatusOK, b.libDoc(d))
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// libDocKeys are the fields of a library drive's document.
var libDocKeys = map[string]bool{}

func init() {
	for _, f := range libdriveFields {
		libDocKeys[f.name] = true
	}
}
