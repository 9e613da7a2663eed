package main

import (
	"testing"
	"time"
)

// The example runs to the end against the in-process fake.
func TestRunAgainstFake(t *testing.T) {
	if err := run("", "", "", false, "node-test", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := run("", "", "", true, "node-test", time.Minute); err != nil {
		t.Fatalf("v1: %v", err)
	}
}
