package sim_test

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

func ExampleClock() {
	clk := sim.NewClock(sim.Epoch)
	clk.AfterFunc(10*time.Minute, func() { fmt.Println("clone finished at", clk.Since(sim.Epoch)) })
	clk.Advance(time.Hour) // a test steps time; no wall-clock waiting
	// Output: clone finished at 10m0s
}

func ExampleFaults() {
	var f sim.Faults
	f.Add(sim.Fault{Method: "GET", PathPrefix: "/api/2.0/jobs/", Times: 3, Status: 503})
	f.Inject(sim.FaultDropWebsocket, 1)
	fmt.Println(f.Take(sim.FaultDropWebsocket), f.Take(sim.FaultDropWebsocket))
	// Output: true false
}

// A backend keeps an uploaded file in a Spool: in memory while small, in
// a temporary file past its limit, gone after Close.
func ExampleSpool() {
	sp := sim.NewSpool(4, "") // spill past 4 bytes (DefaultSpoolMemory when 0)
	defer sp.Close()
	_, _ = sp.ReadFrom(strings.NewReader("a file bigger than four bytes"))
	r, _ := sp.Open()
	b, _ := io.ReadAll(r)
	fmt.Println(sp.Size(), sp.Spilled(), string(b))
	// Output: 29 true a file bigger than four bytes
}

// A clock can change speed at any time: stopped (manual), running at a
// multiple of the wall clock, paused and resumed; Advance works in every mode.
func ExampleClock_SetSpeed() {
	clk := sim.NewClock(sim.Epoch)
	clk.SetSpeed(60) // a fake minute per wall second
	clk.Pause()
	at := clk.Now()
	clk.Advance(time.Hour)
	fmt.Println(clk.Since(at), clk.Speed())
	clk.Resume()
	fmt.Println(clk.Speed())
	clk.SetSpeed(0)
	// Output:
	// 1h0m0s 0
	// 60
}
