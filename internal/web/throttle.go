package web

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/store"
)

// Failed logins slow guessing down, per user name and per client address,
// with the counts in the database (web_login_failures) so that every
// worker process sharing it counts the same guesses. A lock is checked
// before the password is, so a locked guess costs no bcrypt.
const (
	userLockAfter = 5  // failures of one name before its logins are locked
	addrLockAfter = 20 // failures from one address (IPv6: its /64) before its logins are locked
	// The first lock lasts firstLock; each further failure doubles it, up to
	// maxLock. A locked attempt is not a failure: it changes nothing.
	firstLock = 2 * time.Second
	maxLock   = 15 * time.Minute
	// A count with no failure for this long starts again from zero.
	forgetFailuresAfter = 24 * time.Hour
	// defaultBcryptWait is how long a login waits for the one bcrypt this
	// process runs at a time before it is answered 429.
	defaultBcryptWait = 5 * time.Second
)

// lockFor is how long a key is locked after its failures-th failure, when
// threshold failures start the locks; 0: not locked.
func lockFor(failures, threshold int) time.Duration {
	if failures < threshold {
		return 0
	}
	d := firstLock
	for i := threshold; i < failures && d < maxLock; i++ {
		d *= 2
	}
	return min(d, maxLock)
}

// ParseTrustedProxies reads WEB_TRUSTED_PROXIES: addresses or CIDR ranges,
// comma-separated ("10.0.0.0/8, 192.0.2.7, fd00::/8"). Each problem is one
// line.
func ParseTrustedProxies(s string) ([]netip.Prefix, []string) {
	var prefixes []netip.Prefix
	var problems []string
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if p, err := netip.ParsePrefix(entry); err == nil {
			prefixes = append(prefixes, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(entry); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		problems = append(problems, fmt.Sprintf("entry %d (%q) is not an address or a CIDR range such as 10.0.0.0/8", i+1, entry))
	}
	return prefixes, problems
}

func (h *Handler) trusted(a netip.Addr) bool {
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a login is counted against: the connection's
// peer, or, when the peer is one of WEB_TRUSTED_PROXIES, the nearest
// address in X-Forwarded-For that is not a trusted proxy. Anyone can write
// X-Forwarded-For, so it is never read from an untrusted peer (a guesser
// would otherwise pick a new address for each guess).
func (h *Handler) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap().WithZone("")
	if !h.trusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: the last address a trusted hop vouched for stands
		}
		client = a.Unmap().WithZone("")
		if !h.trusted(client) {
			break
		}
	}
	return client
}

// addrKey is the failure count's key of an address: an IPv4 address
// itself, an IPv6 address's /64 (one machine commonly has the whole /64).
func addrKey(a netip.Addr) string {
	if !a.IsValid() {
		return "addr:unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + a.String()
}

// userKey is the failure count's key of a user name, "" for a name no user
// can have (it is counted against the address only). Unknown names are
// counted like known ones, so a lock does not tell which names exist.
func userKey(name string) string {
	if !ValidUserName(name) {
		return ""
	}
	return "user:" + name
}

func keysOf(name string, addr netip.Addr) []string {
	keys := []string{addrKey(addr)}
	if k := userKey(name); k != "" {
		keys = append(keys, k)
	}
	return keys
}

// loginLocked says how long the login of name from addr must still wait;
// 0: it may try.
func (h *Handler) loginLocked(ctx context.Context, name string, addr netip.Addr) (time.Duration, error) {
	now := h.now()
	key, failures, until, err := store.LoginLock(ctx, h.cfg.Pool, keysOf(name, addr), now)
	if err != nil || until.IsZero() {
		return 0, err
	}
	wait := until.Sub(now)
	// Debug only: a guesser hammering a lock would otherwise write a line
	// per guess. The lock itself was logged when it was set.
	h.logger.DebugContext(ctx, "web: login refused while locked", "user", name, "remote", addr.String(), "key", key,
		"failures", failures, "retry_after", wait.Round(time.Second).String())
	return wait, nil
}

// loginFailed counts a failed login against the name and the address and
// locks them when they have failed too often. It logs the name, the
// address and the counts, never the password.
func (h *Handler) loginFailed(ctx context.Context, name string, addr netip.Addr) error {
	now := h.now()
	counts := map[string]int{}
	for _, key := range keysOf(name, addr) {
		n, err := store.RecordLoginFailure(ctx, h.cfg.Pool, key, now, now.Add(-forgetFailuresAfter))
		if err != nil {
			return err
		}
		counts[key] = n
		threshold := userLockAfter
		if strings.HasPrefix(key, "addr:") {
			threshold = addrLockAfter
		}
		if d := lockFor(n, threshold); d > 0 {
			if err := store.LockLogin(ctx, h.cfg.Pool, key, now.Add(d)); err != nil {
				return err
			}
			h.logger.WarnContext(ctx, "web: logins locked after repeated failures", "key", key, "failures", n,
				"locked_for", d.String(), "remote", addr.String())
		}
	}
	attrs := []any{"user", name, "remote", addr.String(), "address_failures", counts[addrKey(addr)]}
	if k := userKey(name); k != "" {
		attrs = append(attrs, "user_failures", counts[k])
	}
	h.logger.WarnContext(ctx, "web: login refused", attrs...)
	if counts[addrKey(addr)] == 1 {
		// Now and then, forget old counts (names guessed once would pile up).
		if err := store.DeleteLoginFailuresBefore(ctx, h.cfg.Pool, now.Add(-forgetFailuresAfter)); err != nil {
			h.logger.WarnContext(ctx, "web: removing old failed logins failed", "error", err)
		}
	}
	return nil
}

// loginSucceeded forgets the user's failures (not the address's: one good
// password does not vouch for the other guesses from there).
func (h *Handler) loginSucceeded(ctx context.Context, name string) error {
	return store.ClearLoginFailures(ctx, h.cfg.Pool, userKey(name))
}

// acquireBcrypt takes the one bcrypt slot of this process, waiting at most
// bcryptWait: bcrypt takes a core for tens of milliseconds, and guesses
// must not take the cores the callback path needs. false: busy.
func (h *Handler) acquireBcrypt(ctx context.Context) bool {
	select {
	case h.bcryptSlot <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.bcryptWait)
	defer t.Stop()
	select {
	case h.bcryptSlot <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (h *Handler) releaseBcrypt() { <-h.bcryptSlot }

// tooMany answers 429 with Retry-After (whole seconds, at least 1) and the
// login page saying when to try again.
func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, lang, next string, wait time.Duration, key string) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	msg := fmt.Sprintf(label(lang, key), waitText(lang, secs))
	p := page{Lang: lang, Title: label(lang, "login.title"), CSRF: h.loginToken(w, r), Data: loginData{Next: next, Message: msg}}
	h.render(w, r, http.StatusTooManyRequests, "login", p)
}

// waitText says secs as people read it: "40 sekunder", "3 minutter".
func waitText(lang string, secs int) string {
	if secs < 120 {
		return fmt.Sprintf(label(lang, "login.seconds"), secs)
	}
	return fmt.Sprintf(label(lang, "login.minutes"), (secs+59)/60)
}
