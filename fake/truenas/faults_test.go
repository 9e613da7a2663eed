package truenas_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// eventSeq starts a copy with events subscribed (protocol by path) and
// returns the (msg, state, percent) of every job event up to the reply of
// a core.ping sent after the clock has run the job to its end.
func eventSeq(t *testing.T, legacy bool, fault string) []string {
	t.Helper()
	b, clk, base := legacyServer(t, truenas.Version2510)
	if fault != "" {
		b.Env().Faults.Inject(fault, 1)
	}
	var seq []string
	note := func(msg string, fields map[string]any) {
		p, _ := fields["progress"].(map[string]any)
		seq = append(seq, msg+":"+toS(fields["state"])+":"+toS(p["percent"]))
	}
	if legacy {
		w := ldial(t, base)
		w.connect()
		w.login()
		w.write(`{"id": "s", "msg": "sub", "name": "core.get_jobs"}`)
		w.readRaw()
		w.write(`{"id": "c", "msg": "method", "method": "filesystem.copy", "params": ["/mnt/tank/a", "/mnt/tank/b"]}`)
		_, evs := w.result("c")
		clk.Advance(truenas.CopyStep * truenas.CopySteps)
		w.write(`{"id": "p", "msg": "method", "method": "core.ping"}`)
		_, more := w.result("p")
		for _, e := range append(evs, more...) {
			f, _ := e["fields"].(map[string]any)
			note(e["msg"].(string), f)
		}
		return seq
	}
	w := dial(t, "ws"+strings.TrimPrefix(base, "http")+"/api/current")
	login(t, w)
	w.call("core.subscribe", "core.get_jobs")
	_, evs := w.reply(w.send("filesystem.copy", "/mnt/tank/a", "/mnt/tank/b"))
	clk.Advance(truenas.CopyStep * truenas.CopySteps)
	_, more := w.reply(w.send("core.ping"))
	for _, e := range append(evs, more...) {
		u := e.update(t)
		var f map[string]any
		_ = json.Unmarshal(u.Fields, &f)
		note(u.Msg, f)
	}
	return seq
}

func toS(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// Loss drops one event for good; reorder delivers the same events, one of
// them late (after the next frame), never losing it. Both protocols.
func TestLossAndReorderFaults(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := map[bool]string{false: "jsonrpc", true: "legacy"}[legacy]
		t.Run(name, func(t *testing.T) {
			clean := eventSeq(t, legacy, "")
			if len(clean) < 3 || clean[0] != "added:WAITING:0" || !strings.HasPrefix(clean[len(clean)-1], "changed:SUCCESS:100") {
				t.Fatalf("clean run: %v", clean)
			}
			lost := eventSeq(t, legacy, truenas.FaultLoseEvents)
			if len(lost) != len(clean)-1 || strings.Join(lost, " ") != strings.Join(clean[1:], " ") {
				t.Fatalf("loss: %v\nclean: %v", lost, clean)
			}
			re := eventSeq(t, legacy, sim.FaultReorderEvents)
			if len(re) != len(clean) {
				t.Fatalf("reorder lost an event: %v\nclean: %v", re, clean)
			}
			if re[0] != clean[1] || re[1] != clean[0] || strings.Join(re[2:], " ") != strings.Join(clean[2:], " ") {
				t.Fatalf("reorder: %v\nclean: %v", re, clean)
			}
		})
	}
}

// A held event whose successor never comes is released by the next frame
// of any kind (here the reply to a poll), so the final state still
// arrives. The last step's RUNNING 100% event is lost, the final SUCCESS
// event held.
func TestReorderedFinalEventFollowsNextReply(t *testing.T) {
	b, clk, base := legacyServer(t, truenas.Version2510)
	w := ldial(t, base)
	w.connect()
	w.login()
	w.write(`{"id": "s", "msg": "sub", "name": "core.get_jobs"}`)
	w.readRaw()
	w.write(`{"id": "c", "msg": "method", "method": "filesystem.copy", "params": ["/mnt/tank/a", "/mnt/tank/b"]}`)
	w.result("c")
	clk.Advance(truenas.CopyStep * (truenas.CopySteps - 1))
	w.write(`{"id": "p1", "msg": "method", "method": "core.ping"}`)
	w.result("p1")
	b.Env().Faults.Inject(truenas.FaultLoseEvents, 1)
	b.Env().Faults.Inject(sim.FaultReorderEvents, 1)
	clk.Advance(truenas.CopyStep)
	w.write(`{"id": "p2", "msg": "method", "method": "core.ping"}`)
	raw, evs := w.result("p2")
	if raw != `{"id":"p2","msg":"result","result":"pong"}` || len(evs) != 0 {
		t.Fatalf("ping: %s after %v", raw, evs)
	}
	final := w.read()
	f, _ := final["fields"].(map[string]any)
	if final["msg"] != "changed" || f["state"] != "SUCCESS" || f["result"] != true {
		t.Fatalf("final event %v", final)
	}
}
