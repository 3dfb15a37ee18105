package daemon_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// A client that sends its request too slowly is cut off by the server's
// timeouts (shortened here; the production values are in
// httpapi.NewHTTPServer), and the receiver keeps serving others. The
// request trickles one byte every 10 ms and is long enough to take seconds,
// so it can only end early by being cut off, however slow the machine.
func TestSlowCallbackClientsAreCutOff(t *testing.T) {
	t.Parallel()
	s := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks}, nil)
	if daemon.PublicServer(s.D).ReadHeaderTimeout <= 0 || daemon.PublicServer(s.D).ReadTimeout <= 0 {
		t.Fatalf("the worker's HTTP server has no read timeouts: %+v", daemon.PublicServer(s.D))
	}
	daemon.PublicServer(s.D).ReadHeaderTimeout = 200 * time.Millisecond
	daemon.PublicServer(s.D).ReadTimeout = 400 * time.Millisecond
	s.Run(t)
	addr := strings.TrimPrefix(s.Cfg.CallbackBaseURL, "http://")
	padding := strings.Repeat("a", 400)

	slowHeaders := "GET " + callbackurl.Path + "?ref=1 HTTP/1.1\r\nHost: x\r\nX-Slow: " + padding + "\r\n\r\n"
	if sent, total := trickle(t, addr, slowHeaders); sent >= total {
		t.Errorf("slow headers: all %d bytes sent before the server gave up", total)
	}
	body := "orderUuid=ODR1&status=PAID&createdAt=1&checksum=" + padding
	slowBody := "POST " + callbackurl.Path + "?ref=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if sent, total := trickle(t, addr, slowBody); sent >= total {
		t.Errorf("slow body: all %d bytes sent before the server gave up", total)
	}
	// The receiver still answers a well-behaved client.
	if code := daemontest.DoRequest(t, "GET", s.Cfg.CallbackBaseURL+"/healthz", "", ""); code != http.StatusOK {
		t.Errorf("healthz after slow clients: HTTP %d", code)
	}
}

// trickle writes req to addr one byte every 10 ms until the server closes
// the connection (or answers), and returns how many bytes it sent.
func trickle(t *testing.T, addr, req string) (sent, total int) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() { // any answer or the close ends the read
		defer close(closed)
		_, _ = conn.Read(make([]byte, 1024))
	}()
	for sent < len(req) {
		select {
		case <-closed:
			return sent, len(req)
		case <-time.After(10 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{req[sent]}); err != nil {
			return sent, len(req)
		}
		sent++
	}
	return sent, len(req)
}
