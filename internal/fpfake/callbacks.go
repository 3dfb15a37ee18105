package fpfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Checksum is FP's callback checksum: lower-case hex SHA-256 of
// orderUuid + status + createdAt + key. With an empty key it is the seeds'
// formula (orderUuid + status + createdAt); other versions of FP's
// documentation append the merchant's secret key.
func Checksum(orderUUID, status, createdAt, key string) string {
	sum := sha256.Sum256([]byte(orderUUID + status + createdAt + key))
	return hex.EncodeToString(sum[:])
}

// CallbackURL is the URL FP calls (GET): callbackURL with orderUuid, status,
// createdAt, timestamp and checksum appended, with "&" when it already has a
// query and "?" otherwise. (The seed's example shows "×tamp=": that is
// "&timestamp=" eaten by the HTML entity "&times;" when the page was
// rendered.) Values are query-escaped, so "PARTIAL REFUNDED" travels as
// "PARTIAL+REFUNDED". A fragment stays at the end, where it belongs.
func CallbackURL(callbackURL, orderUUID, status string, createdAt, timestamp int64, key string) string {
	base, fragment, hasFragment := strings.Cut(callbackURL, "#")
	created := strconv.FormatInt(createdAt, 10)
	var b strings.Builder
	b.WriteString(base)
	switch {
	case strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&"):
	case strings.Contains(base, "?"):
		b.WriteByte('&')
	default:
		b.WriteByte('?')
	}
	b.WriteString("orderUuid=" + url.QueryEscape(orderUUID))
	b.WriteString("&status=" + url.QueryEscape(status))
	b.WriteString("&createdAt=" + created)
	b.WriteString("&timestamp=" + strconv.FormatInt(timestamp, 10))
	b.WriteString("&checksum=" + Checksum(orderUUID, status, created, key))
	if hasFragment {
		b.WriteString("#" + fragment)
	}
	return b.String()
}

// startPlan runs the order's plan in the background: each status after the
// callback delay, one callback each.
func (s *Server) startPlan(o Order) {
	statuses := s.plan(o)
	if len(statuses) == 0 || !s.enter() {
		return
	}
	go func() {
		defer s.wg.Done()
		for _, status := range statuses {
			t := time.NewTimer(s.delay)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if s.cancelRequested(o.UUID) {
				return // FP does not go on with an order it was asked to cancel
			}
			if err := s.changeStatus(s.ctx, o.UUID, status); err != nil && s.ctx.Err() == nil {
				s.log.Warn("fp callback given up", "order_uuid", o.UUID, "status", status, "error", err)
			}
		}
	}()
}

// SetStatus sets an order's status, as FP would when something happens to
// it, and delivers its callback before returning (retrying as configured).
// It returns ErrNotFound for an unknown order, ErrClosed after Close, and the
// last delivery error if the callback could not be delivered.
func (s *Server) SetStatus(ctx context.Context, uuid, status string) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	return s.changeStatus(ctx, uuid, status)
}

// LoseCallback sets an order's status as SetStatus does, but its callback
// never arrives (FP gave up, or it was lost on the way): only the status
// endpoint tells. It returns ErrNotFound for an unknown order.
func (s *Server) LoseCallback(uuid, status string) error {
	_, _, err := s.setStatus(uuid, status)
	return err
}

func (s *Server) changeStatus(ctx context.Context, uuid, status string) error {
	at, callbackURL, err := s.setStatus(uuid, status)
	if err != nil || callbackURL == "" {
		return err
	}
	return s.deliver(ctx, uuid, status, callbackURL, at.Unix())
}

// setStatus records the status and returns when it was set and where its
// callback goes.
func (s *Server) setStatus(uuid, status string) (time.Time, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[uuid]
	if !ok {
		return time.Time{}, "", ErrNotFound
	}
	at := s.now()
	o.Status = status
	o.History = append(o.History, StatusChange{Status: status, At: at})
	return at, o.CallbackURL, nil
}

// deliver calls the callback URL until it answers 2xx, retrying a non-2xx
// answer or a connection error with a doubling backoff. createdAt (and so
// the checksum) stays the same across tries; timestamp is the try's time.
func (s *Server) deliver(ctx context.Context, uuid, status, callbackURL string, createdAt int64) error {
	where := redactURL(callbackURL)
	for attempt := 0; ; attempt++ {
		u := CallbackURL(callbackURL, uuid, status, createdAt, s.now().Unix(), s.key)
		err := s.callOnce(ctx, u)
		s.mu.Lock()
		s.stats.callbackAttempts++
		if err == nil {
			s.stats.callbacksOK++
		} else if attempt >= s.retries || ctx.Err() != nil {
			s.stats.callbacksLost++
		}
		s.mu.Unlock()
		if err == nil {
			s.log.InfoContext(ctx, "fp callback", "order_uuid", uuid, "status", status, "url", where, "attempt", attempt+1)
			return nil
		}
		s.log.WarnContext(ctx, "fp callback failed", "order_uuid", uuid, "status", status, "url", where, "attempt", attempt+1, "error", err)
		if attempt >= s.retries || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(s.backoff << attempt)
		select {
		case <-ctx.Done():
			t.Stop()
			s.mu.Lock()
			s.stats.callbacksLost++
			s.mu.Unlock()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Server) callOnce(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	return nil
}

// redactURL keeps scheme, host and path: a callback URL's query may carry
// the merchant's own secrets (an HMAC of its reference, say).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func (s *Server) cancelRequested(uuid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[uuid]
	return o != nil && o.CancelRequested
}
