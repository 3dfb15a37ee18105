package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/store"
)

// TestEndToEnd drives a file through import, River, the FP simulator, its
// callbacks and the reconciliation view, then imports it again (nothing is
// sent twice) and a changed version (sent again with fpgoUuid).
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	plan := func(o fpfake.Order) []string {
		switch o.Kind {
		case fpclient.KindInvoice:
			return []string{"SENT"}
		case fpclient.KindHostedCheckout:
			return []string{"SENT", "MYSTERY STATUS"}
		}
		return []string{"SENT", "PAID"}
	}
	s := startStack(t, fpfake.Config{CallbackDelay: 50 * time.Millisecond, Plan: plan})
	start := time.Now()
	outs := s.ImportCSV(t, "orders.csv", daemontest.E2EFile)
	if len(outs) != 1 || outs[0].Counts[store.OrderNew] != 4 || outs[0].JobsQueued != 4 {
		t.Fatalf("import: %+v", outs)
	}
	s.WaitSettled(t, start, true)

	got := s.View(t)
	want := map[string]struct {
		kind, status, fpStatus, total string
	}{
		"E-1": {"invoice", "sent", "SENT", "4500.00"},
		// 2 × 1250.00 − 100.00 + 199.90
		"E-2": {"payment-link", "paid", "PAID", "2599.90"},
		// 3 × 100.10
		"E-3": {"checkout", "paid", "PAID", "300.30"},
		// an unknown FP status is kept, our status stays
		"E-4": {"hosted-checkout", "sent", "MYSTERY STATUS", "99.00"},
	}
	if len(got) != len(want) {
		t.Errorf("view has %d orders, want %d: %+v", len(got), len(want), got)
	}
	for ref, w := range want {
		g := got[ref]
		if g.Kind != w.kind || g.Status != w.status || g.FPStatus != w.fpStatus || g.GrandTotal != w.total || !strings.HasPrefix(g.FPUUID, "ODR") || g.Attempts != 1 {
			t.Errorf("%s: got %+v, want %+v", ref, g, w)
		}
		if n := s.Sim.Creations(ref); n != 1 {
			t.Errorf("%s created %d times at FP, want 1", ref, n)
		}
	}
	var rejected int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM rejected_rows WHERE row_no = 7 AND column_name = 'email'`).Scan(&rejected); err != nil || rejected != 1 {
		t.Errorf("rejected e-mail row: %d, %v", rejected, err)
	}

	// Exactly the seed's amounts reached FP for the invoice.
	o, ok := s.Sim.Order(got["E-1"].FPUUID)
	if !ok {
		t.Fatal("simulator lost E-1")
	}
	var body struct {
		OrderSummary map[string]json.Number `json:"orderSummary"`
		ReferenceNo  string                 `json:"referenceNo"`
	}
	if err := json.Unmarshal(o.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ReferenceNo != "E-1" || body.OrderSummary["subTotal"] != "4017.86" || body.OrderSummary["totalTax"] != "482.14" || body.OrderSummary["grandTotal"] != "4500.00" {
		t.Errorf("E-1 payload: %+v", body)
	}

	// The same orders again, in a file that differs only by a blank line
	// (the very same bytes are skipped before reading): nothing new, nothing sent.
	requests := len(s.Sim.Requests())
	outs = s.ImportCSV(t, "orders-again.csv", daemontest.E2EFile+"\n")
	if outs[0].Counts[store.OrderUnchanged] != 4 || outs[0].JobsQueued != 0 {
		t.Errorf("re-import: %+v", outs[0])
	}
	// A changed invoice FP already has: sent again as an update (fpgoUuid).
	start = time.Now()
	changed := strings.Replace(daemontest.E2EFile, "Router,1,4500.00", "Router,2,4500.00", 1)
	outs = s.ImportCSV(t, "orders-v2.csv", changed)
	s.WaitSettled(t, start, false)
	if n := len(s.Sim.Requests()) - requests; n != 1 {
		t.Errorf("after re-imports FP got %d requests, want 1 (the update)", n)
	}
	got2 := s.View(t)
	if g := got2["E-1"]; g.GrandTotal != "9000.00" || g.FPUUID != got["E-1"].FPUUID || s.Sim.Creations("E-1") != 1 {
		t.Errorf("updated E-1: %+v, creations %d", g, s.Sim.Creations("E-1"))
	}
	o, _ = s.Sim.Order(got["E-1"].FPUUID)
	if !bytes.Contains(o.Body, []byte(`"fpgoUuid":"`+got["E-1"].FPUUID+`"`)) || !bytes.Contains(o.Body, []byte(`"orderFrom":"PARTNER"`)) {
		t.Errorf("update body lacks fpgoUuid/orderFrom: %s", o.Body)
	}

	// The HTTP report agrees with the view.
	today := time.Now().In(s.Cfg.Location).Format(time.DateOnly)
	resp := daemontest.GetReport(t, s.Cfg.CallbackBaseURL+"/reports/reconciliation?format=json&from="+today+"&to="+today)
	defer resp.Body.Close()
	var rep struct {
		Orders []struct {
			OrderRef      string `json:"order_ref"`
			Status        string `json:"status"`
			GrandTotalOre int64  `json:"grand_total_ore"`
		} `json:"orders"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Orders) != len(got2) {
		t.Fatalf("report has %d orders, view %d", len(rep.Orders), len(got2))
	}
	for _, ro := range rep.Orders {
		if v := got2[ro.OrderRef]; v.Status != ro.Status || v.Ore != ro.GrandTotalOre {
			t.Errorf("report %+v != view %+v", ro, v)
		}
	}
}

// A callback with a wrong token or checksum is stored and refused; the
// order's status does not move.
func TestForgedCallbacksAreRefused(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	created := "1764000000"
	good := fpclient.Checksum(uuid, "PAID", created, s.Cfg.ChecksumKey)
	base := s.Cfg.CallbackBaseURL + "/callbacks/frontpayment?"
	for name, c := range map[string]struct {
		query string
		want  int
	}{
		"bad token":    {"ref=" + strconv.FormatInt(id, 10) + "&token=deadbeef&orderUuid=" + uuid + "&status=PAID&createdAt=" + created + "&checksum=" + good, 403},
		"bad checksum": {"ref=" + strconv.FormatInt(id, 10) + "&token=" + callbackurl.Token(s.Cfg.CallbackSecret, id) + "&orderUuid=" + uuid + "&status=PAID&createdAt=" + created + "&checksum=" + strings.Repeat("0", 64), 403},
		"malformed":    {"ref=x", 400},
	} {
		resp, err := http.Get(base + c.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: HTTP %d, want %d", name, resp.StatusCode, c.want)
		}
	}
	var status string
	var stored int
	if err := s.Pool.QueryRow(context.Background(), `SELECT status, (SELECT count(*) FROM callbacks WHERE verdict <> 'accepted') FROM orders`).Scan(&status, &stored); err != nil {
		t.Fatal(err)
	}
	if status != "submitted" || stored != 3 {
		t.Errorf("status %s, stored refused callbacks %d; want submitted, 3", status, stored)
	}
}
