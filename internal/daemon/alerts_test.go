package daemon_test

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/inbox"
	"github.com/frontpayment/fpexport/internal/store"
)

// alertRule is one rule of deploy/prometheus-alerts.yml: its name and its
// expression (one line each, as the file promises).
type alertRule struct{ name, expr string }

func readAlertRules(t *testing.T) []alertRule {
	t.Helper()
	b, err := os.ReadFile("../../deploy/prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules []alertRule
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "- alert: "); ok {
			rules = append(rules, alertRule{name: name})
		} else if expr, ok := strings.CutPrefix(line, "expr: "); ok {
			if len(rules) == 0 || rules[len(rules)-1].expr != "" {
				t.Fatalf("expr without its alert: %s", line)
			}
			rules[len(rules)-1].expr = expr
		}
	}
	for _, r := range rules {
		if r.expr == "" || strings.HasPrefix(r.expr, "|") || strings.HasPrefix(r.expr, ">") {
			t.Fatalf("alert %s: no one-line expr", r.name)
		}
	}
	return rules
}

// selector is one metric a PromQL expression reads, with its matchers.
type selector struct {
	metric   string
	matchers [][3]string // label, op, value
}

var (
	rangeRE   = regexp.MustCompile(`\[[^\]]*\]`)
	tokenRE   = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?(\s*\()?`)
	matcherRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"([^"]*)"`)
	// PromQL's words that are not metrics (functions are told by their "(").
	promqlWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "and": true, "or": true, "unless": true, "bool": true, "offset": true}
)

// selectors reads the metric selectors of a PromQL expression. Not a
// PromQL parser (Prometheus's own is a module far larger than this
// project): enough for the rules' one-line expressions, whose syntax
// `promtool check rules` checks in CI.
func selectors(expr string) []selector {
	var out []selector
	for _, m := range tokenRE.FindAllStringSubmatch(rangeRE.ReplaceAllString(expr, ""), -1) {
		name, braces, call := m[1], m[2], m[3]
		if call != "" || promqlWords[name] {
			continue
		}
		s := selector{metric: name}
		for _, mm := range matcherRE.FindAllStringSubmatch(braces, -1) {
			s.matchers = append(s.matchers, [3]string{mm[1], mm[2], mm[3]})
		}
		out = append(out, s)
	}
	return out
}

// hasSeries says whether family has a series whose label is value.
func hasSeries(f *dto.MetricFamily, label, value string) bool {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return true
			}
		}
	}
	return false
}

// Every alert in deploy/prometheus-alerts.yml reads metrics a running
// worker exposes, with the labels and label values it matches on: a
// renamed metric or a misspelt status would leave an alert that can never
// fire. The worker has sent orders, applied callbacks, counted a forged
// one, run an import of its inbox and recorded a report, so the metrics
// of the nightly work are there too. (`up` is Prometheus's own.)
func TestAlertRulesReadExposedMetrics(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(fpfake.Order) []string { return []string{"SENT"} }}, nil)
	start := time.Now()
	s.ImportCSV(t, "alerts.csv", daemontest.FourKinds)
	s.WaitSettled(t, start, true)
	resp, err := http.Get("http://" + s.Cfg.ListenAddr + "/callbacks/frontpayment?ref=1&token=forged&orderUuid=ODR1&status=PAID&createdAt=1&checksum=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx := context.Background()
	if _, err := inbox.Import(ctx, s.Pool, s.D.River(), t.TempDir(), inbox.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := store.RecordReport(ctx, s.Pool, store.ReportFile{PeriodFrom: "2026-12-05", PeriodTo: "2026-12-05", Format: "xlsx",
		Path: "/srv/fpexport/reports/reconciliation-2026-12-05.xlsx", SHA256: "x", GeneratedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	fams := scrapeMetrics(t, s)

	rules := readAlertRules(t)
	if len(rules) < 9 {
		t.Fatalf("%d rules read, want at least 9", len(rules))
	}
	for _, r := range rules {
		sels := selectors(r.expr)
		if len(sels) == 0 {
			t.Errorf("%s: no metric found in %q", r.name, r.expr)
		}
		for _, sel := range sels {
			if sel.metric == "up" {
				continue
			}
			f := fams[sel.metric]
			if f == nil {
				t.Errorf("%s reads %s, which /metrics does not expose", r.name, sel.metric)
				continue
			}
			for _, m := range sel.matchers {
				label, op, value := m[0], m[1], m[2]
				var values []string
				switch op {
				case "=":
					values = []string{value}
				case "=~": // each alternative of a plain a|b|c
					values = strings.Split(value, "|")
				default:
					continue
				}
				for _, v := range values {
					if !hasSeries(f, label, v) {
						t.Errorf("%s reads %s{%s=%q}, a series /metrics does not expose", r.name, sel.metric, label, v)
					}
				}
			}
		}
	}
}
