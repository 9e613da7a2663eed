package sim_test

import (
	"fmt"
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
