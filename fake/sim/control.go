package sim

import "errors"

// Outcomes a control request may force on a job (see the backends'
// ForceJob).
const (
	OutcomeFail   = "fail"
	OutcomeAbort  = "abort"
	OutcomeFinish = "finish"
)

// ErrNoJob is what a backend's control hook returns (wrapped) for a job id
// it does not hold; the control API answers 404.
var ErrNoJob = errors.New("no such job")

// ErrUnsupported is what a backend's control hook returns (wrapped) for a
// request the dialect has no equivalent of; the control API answers 501.
var ErrUnsupported = errors.New("not supported by this dialect")

// ErrBadSeed is what a backend's seed hook returns (wrapped) for a seed
// section it cannot read; the control API answers 400.
var ErrBadSeed = errors.New("bad seed document")

// ErrNotRunning is what a backend's control hook returns (wrapped) when
// asked to end a job that is not running; the control API answers 409.
var ErrNotRunning = errors.New("job is not running")
