package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpfake"
)

// action runs `worker args…` as kari, with FP's address and token.
func (s *stack) action(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, envOf(map[string]string{"DATABASE_URL": testdbURL(s), "USER": "kari",
		"FP_BASE_URL": s.cfg.FPBaseURL, "FP_TOKEN": s.cfg.FPToken}), &out, &errOut)
	return out.String(), err
}

// The action commands as an accountant runs them: answers in bokmål,
// exit 1 when nothing changed, 2 for a usage mistake. What each action
// does at FP and in the database is internal/daemon's TestActionsAgainstFP.
func TestActionCommands(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: func(fpfake.Order) []string { return []string{"SENT"} }})
	start := time.Now()
	s.importCSV(t, "a.csv", header+
		"A-1,invoice,corporate,Fjord AS,post@fjord.example.no,+47,46567470,,923609016,Storgata 1,0155,Oslo,NO,no,,Konsulent,1,999.00,0,25,,,,,,,,\n")
	s.waitSettled(t, start, true)

	out, err := s.action(t, "resend", "A-1", "--msisdn", "4656")
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--msisdn") || !strings.Contains(err.Error(), "ingenting ble sendt") {
		t.Errorf("resend to a short number: %q, %v", out, err)
	}
	out, err = s.action(t, "resend", "A-1", "--msisdn", "46567499", "--country-code", "+47")
	if err != nil || !strings.Contains(out, "FP sender lenken/varselet på nytt til post@fjord.example.no, +47 *****499") {
		t.Errorf("resend: %q, %v", out, err)
	}
	out, err = s.action(t, "cancel", "A-1", "--note", "duplikat")
	if err != nil || !strings.Contains(out, "FP har tatt imot kanselleringen") {
		t.Errorf("cancel: %q, %v", out, err)
	}
	out, err = s.action(t, "withdraw", "A-1")
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "kan ikke trekkes tilbake") {
		t.Errorf("withdraw of an order FP has: %q, %v", out, err)
	}
	if _, err := s.action(t, "cancel"); !errors.Is(err, errUsage) {
		t.Errorf("cancel without ORDER: %v, want usage", err)
	}
	out, err = s.action(t, "cancel", "A-404", "--lang", "en")
	if err == nil || errors.Is(err, errUsage) {
		t.Errorf("cancel of an unknown order: %q, %v", out, err)
	}
}
