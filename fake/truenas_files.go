package fake

import "github.com/longrun/longrun/fake/truenas"

// TrueNASFiles is the TrueNAS middleware's file transfer side: POST
// /_upload, GET /_download/<job>, core.download and the job methods that
// consume or produce files, with the fake filesystem and configuration
// database they work on.
func (s *Server) TrueNASFiles() *truenas.Files {
	f, _ := s.backend("truenas-files").(*truenas.Files)
	return f
}
