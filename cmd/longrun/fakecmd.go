package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

func (a *app) fakeCommand() *cobra.Command {
	var addr string
	var speed float64
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Run the bundled fake of all four services (as longrun-fake does)",
		Long: `Run longrun's in-memory fake of CloudSigma, TrueNAS, Freezer and ftrack until
interrupted. It prints each dialect's URL and the seeded credentials; fake time
runs --speed times faster than the wall clock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if speed <= 0 {
				return usagef("--speed must be positive")
			}
			srv := fake.NewServer(nil, fake.Options{Addr: addr, Clock: sim.NewScaledClock(speed)})
			defer srv.Close()
			base := srv.URL()
			fmt.Fprintf(a.stdout, "longrun fake listening on %s (fake time x%g)\n", base, speed)
			fmt.Fprintf(a.stdout, "export CLOUDSIGMA_URL=%s TRUENAS_URL=%s OS_BACKUP_URL=%s FTRACK_SERVER=%s\n",
				srv.CloudSigmaURL(), srv.WebsocketURL(), base, base)
			for _, u := range srv.Env().Users() {
				fmt.Fprintf(a.stdout, "user name=%s email=%s password=%s api_key=%s\n", u.Name, u.Email, u.Password, u.APIKey)
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8088", "listen address")
	cmd.Flags().Float64Var(&speed, "speed", 60, "fake seconds per wall second")
	return cmd
}
