package testdb

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Outage is a TCP proxy in front of the test server that a test can cut to
// play a database outage as the worker sees one: Down closes every open
// connection and the listening socket (new connections are refused, as by a
// server that is down or restarting); Up listens again on the same address.
// The server behind it is real and keeps running, so a transaction cut by
// Down is rolled back by PostgreSQL as after a crash of the connection.
type Outage struct {
	addr   string // the proxy's loopback address, stable across Down/Up
	target string // the real server's host:port

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
}

// NewOutage starts a proxy to the server of dbURL and returns it with the
// same URL pointing through the proxy. The proxy stops when the test ends.
func NewOutage(t testing.TB, dbURL string) (*Outage, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("testdb: outage proxy: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testdb: outage proxy: %v", err)
	}
	o := &Outage{addr: ln.Addr().String(), target: u.Host, conns: map[net.Conn]struct{}{}}
	o.serve(ln)
	t.Cleanup(o.Down)
	u.Host = o.addr
	return o, u.String()
}

// Addr is the proxy's host:port.
func (o *Outage) Addr() string { return o.addr }

// Down cuts every connection and refuses new ones until Up.
func (o *Outage) Down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		o.ln.Close()
		o.ln = nil
	}
	for c := range o.conns {
		c.Close()
		delete(o.conns, c)
	}
}

// Up accepts connections again, on the same address.
func (o *Outage) Up() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	o.serveLocked(ln)
	return nil
}

func (o *Outage) serve(ln net.Listener) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.serveLocked(ln)
}

func (o *Outage) serveLocked(ln net.Listener) {
	o.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			go o.pipe(ln, c)
		}
	}()
}

// pipe joins a client to a fresh connection to the real server, unless the
// proxy went down (or came up on a new listener) in the meantime.
func (o *Outage) pipe(ln net.Listener, client net.Conn) {
	server, err := net.Dial("tcp", o.target)
	if err != nil {
		client.Close()
		return
	}
	o.mu.Lock()
	if o.ln != ln {
		o.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	o.conns[client], o.conns[server] = struct{}{}, struct{}{}
	o.mu.Unlock()
	done := make(chan struct{}, 2)
	copyThenClose := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go copyThenClose(server, client)
	go copyThenClose(client, server)
	<-done
	<-done
	o.mu.Lock()
	delete(o.conns, client)
	delete(o.conns, server)
	o.mu.Unlock()
}
