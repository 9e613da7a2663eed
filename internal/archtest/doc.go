// Package archtest holds no code: its test reads the module's import graph
// with `go list` and fails when an arrow points the wrong way (DESIGN.md):
// jobs imports only the standard library; no SDK package imports the fake;
// the fake imports no SDK package; no production package imports a test
// helper; the fake's command does not link package testing.
package archtest
