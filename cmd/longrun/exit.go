package main

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// The exit codes, documented in `longrun help exit-codes`.
const (
	exitOK          = 0 // every job succeeded
	exitFailed      = 1 // a job failed or was aborted, or another error
	exitUsage       = 2 // bad command line or configuration
	exitTimeout     = 3 // --timeout (or an interrupt) ended the wait first
	exitNotFound    = 4 // the service does not know the job or resource
	exitAuth        = 5 // the service refused the credentials
	exitUnreachable = 6 // the service could not be reached
)

const exitCodesHelp = `Exit codes:

  0  every job (and every sub-job) succeeded
  1  a job or sub-job failed or was aborted, or another error occurred
  2  usage: a bad command line, flag, or configuration
  3  timed out: --timeout (or an interrupt) ended the wait before the jobs
  4  not found: the service does not know the job or resource
  5  auth refused: the service refused the credentials
  6  service unreachable: no connection could be made

With several jobs, the first code in this order wins: 2, 5, 6, 4, 1, 3, 0.`

// usageError is a bad command line or configuration.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(msg string) error { return &usageError{msg: msg} }

// exitCode maps an error to the documented codes.
func exitCode(err error) int {
	var ue *usageError
	var te *jobs.TimeoutError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, jobs.ErrUnauthorized), errors.Is(err, rest.ErrUnauthorized), errors.Is(err, rest.ErrForbidden):
		return exitAuth
	case errors.Is(err, jobs.ErrJobFailed), errors.Is(err, jobs.ErrJobAborted):
		return exitFailed
	case errors.Is(err, jobs.ErrNotFound), errors.Is(err, rest.ErrNotFound):
		return exitNotFound
	case errors.As(err, &te), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return exitTimeout
	case unreachable(err):
		return exitUnreachable
	}
	return exitFailed
}

// worst combines the codes of several jobs: the first in the documented
// order wins.
func worst(codes ...int) int {
	order := []int{exitUsage, exitAuth, exitUnreachable, exitNotFound, exitFailed, exitTimeout}
	for _, want := range order {
		for _, c := range codes {
			if c == want {
				return c
			}
		}
	}
	return exitOK
}

// unreachable reports a failure to connect: refused, no route, DNS.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return true
	}
	return false
}
