package main

import "github.com/frontpayment/fpexport/internal/fpfake"

func fpfakeNoCallbacks() fpfake.Config { return fpfake.Config{Plan: fpfake.NoCallbacks} }

// testdbURL is the connection string of the stack's database.
func testdbURL(s *stack) string { return s.pool.Config().ConnString() }
