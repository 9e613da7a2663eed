package fake

import "github.com/longrun/longrun/fake/truenas"

// TrueNAS is the TrueNAS middleware backend (JSON-RPC 2.0 websocket at
// WebsocketURL()), for setting its version, seeding jobs or registering
// more methods.
func (s *Server) TrueNAS() *truenas.Backend {
	b, _ := s.backend("truenas").(*truenas.Backend)
	return b
}
