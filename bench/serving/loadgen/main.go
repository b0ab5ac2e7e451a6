// Open-loop gRPC load generator for bench/serving, in Go, speaking HTTP/2
// frames directly (golang.org/x/net/http2's Framer): per call a HEADERS and a
// DATA frame written with the other calls due, and the responses read by one
// goroutine per connection. The grpc-go client it replaces spent 170-200 µs of
// CPU per call at 2k rps (a goroutine per call, its transport's goroutine
// hand-offs and futex wake-ups), as much as the bare grpc-js server it
// measured, on the same two cores; this one spends 107-120 µs (and prints it),
// so it takes less of the cores it shares with the server it measures.
//
// Each call is sent at its scheduled time whether or not earlier calls
// finished. Go's timers wake up to about a millisecond late, so the calls due
// by then leave together, in one write per connection (at 2k rps, bursts of
// about two), as grpc-go's calls did. Latency runs from the send to the end of
// the response (the trailers). How late calls left is printed too
// (lateP99). A call fails when its grpc-status is not 0, or when its stream is
// reset.
//
// Build (GOPATH mode, Debian golang-go + golang-golang-x-net-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o loadgen bench/serving/loadgen/main.go
//
// Run: loadgen -addr 127.0.0.1:50055 -method /pkg.Service/Method -bodies FILE -rate 2000 -seconds 8 -warmup 2
// FILE holds request messages, each a 4-byte big-endian length and the bytes;
// calls cycle through them. Prints one JSON line.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

type result struct {
	Sent       int     `json:"sent"`
	Ok         int     `json:"ok"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Seconds    float64 `json:"seconds"`
	P50        float64 `json:"p50"`
	P99        float64 `json:"p99"`
	P999       float64 `json:"p999"`
	Max        float64 `json:"max"`
	LateP99    float64 `json:"lateP99"`
	// The generator's own CPU (user + system) per call over the period, µs.
	CPUMicrosPerCall float64 `json:"cpuMicrosPerCall"`
}

// slowLog (LOADGEN_SLOW_LOG=file): every measured call over 2 ms, as "unix-ms latency-ms late-ms".
var slowLog *os.File

// A call in flight on a connection.
type pending struct {
	scheduled time.Time
	sent      time.Time
	late      time.Duration
	phase     *phase
}

// One run (the warm-up or the measured period): what its calls gave.
type phase struct {
	mu        sync.Mutex
	record    bool
	wg        sync.WaitGroup
	r         result
	latencies []float64
	late      []float64
}

func (p *phase) done(c *pending, err error) {
	elapsed := time.Since(c.sent)
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.wg.Done()
	if err != nil {
		p.r.Errors++
		if p.r.FirstError == "" {
			p.r.FirstError = err.Error()
		}
		return
	}
	p.r.Ok++
	if !p.record {
		return
	}
	if slowLog != nil && elapsed > 2*time.Millisecond {
		fmt.Fprintf(slowLog, "%d %.2f %.2f\n", c.scheduled.UnixNano()/1e6, float64(elapsed.Microseconds())/1000, float64(c.late.Microseconds())/1000)
	}
	p.latencies = append(p.latencies, float64(elapsed.Microseconds())/1000)
	p.late = append(p.late, float64(c.late.Microseconds())/1000)
}

// One HTTP/2 connection: calls are written under mu, responses read by read().
type conn struct {
	mu         sync.Mutex
	w          *bufio.Writer
	fr         *http2.Framer
	enc        *hpack.Encoder
	headers    bytes.Buffer
	nextStream uint32
	inflight   map[uint32]*pending
	// Flow control for what we send: the connection's window and the
	// server's initial stream window.
	sendWindow   int64
	streamWindow int64
	maxFrame     int
	windowOpen   *sync.Cond
	received     int64 // response bytes since our last connection WINDOW_UPDATE
	closed       error
	authority    string
	path         string
}

const ourWindow = 1 << 30

func dial(addr, path string) (*conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.(*net.TCPConn).SetNoDelay(true)
	c := &conn{w: bufio.NewWriterSize(nc, 64<<10), nextStream: 1, inflight: map[uint32]*pending{}, sendWindow: 65535, streamWindow: 65535, maxFrame: 16384, authority: addr, path: path}
	c.windowOpen = sync.NewCond(&c.mu)
	c.fr = http2.NewFramer(c.w, bufio.NewReaderSize(nc, 64<<10))
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.headers)
	if _, err := c.w.WriteString(http2.ClientPreface); err != nil {
		return nil, err
	}
	if err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: ourWindow}, http2.Setting{ID: http2.SettingEnablePush, Val: 0}); err != nil {
		return nil, err
	}
	if err := c.fr.WriteWindowUpdate(0, ourWindow); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	go c.read()
	return c, nil
}

// write adds one call's HEADERS and DATA frames to the connection's buffer;
// flush sends what was written (one write for the calls due together). The
// caller holds c.mu.
func (c *conn) write(body []byte, call *pending) error {
	frame := make([]byte, 5+len(body))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(body)))
	copy(frame[5:], body)
	if int64(len(frame)) > c.streamWindow {
		return fmt.Errorf("request of %d bytes exceeds the server's stream window (%d)", len(frame), c.streamWindow)
	}
	for c.closed == nil && c.sendWindow < int64(len(frame)) {
		if err := c.w.Flush(); err != nil {
			return err
		}
		c.windowOpen.Wait()
	}
	if c.closed != nil {
		return c.closed
	}
	id := c.nextStream
	c.nextStream += 2
	c.headers.Reset()
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", c.path}, {":authority", c.authority}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
		c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.headers.Bytes(), EndHeaders: true}); err != nil {
		return err
	}
	for rest := frame; ; {
		n := len(rest)
		if n > c.maxFrame {
			n = c.maxFrame
		}
		if err := c.fr.WriteData(id, n == len(rest), rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
		if len(rest) == 0 {
			break
		}
	}
	c.sendWindow -= int64(len(frame))
	// flush stamps it again; this stamp counts when a full window flushed the
	// batch early and the response came back before the batch's flush.
	call.sent = time.Now()
	c.inflight[id] = call
	return nil
}

// flush sends the written calls and starts their clocks. The caller holds c.mu.
func (c *conn) flush(calls []*pending) error {
	err := c.w.Flush()
	sent := time.Now()
	for _, call := range calls {
		call.sent = sent
	}
	return err
}

func (c *conn) finish(id uint32, err error) {
	c.mu.Lock()
	call := c.inflight[id]
	delete(c.inflight, id)
	c.mu.Unlock()
	if call != nil {
		call.phase.done(call, err)
	}
}

func (c *conn) read() {
	fail := func(err error) {
		c.mu.Lock()
		c.closed = err
		calls := c.inflight
		c.inflight = map[uint32]*pending{}
		c.windowOpen.Broadcast()
		c.mu.Unlock()
		for _, call := range calls {
			call.phase.done(call, err)
		}
	}
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			fail(err)
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			c.mu.Lock()
			f.ForeachSetting(func(s http2.Setting) error {
				switch s.ID {
				case http2.SettingInitialWindowSize:
					c.streamWindow = int64(s.Val)
				case http2.SettingMaxFrameSize:
					c.maxFrame = int(s.Val)
				}
				return nil
			})
			c.fr.WriteSettingsAck()
			c.w.Flush()
			c.mu.Unlock()
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				c.mu.Lock()
				c.sendWindow += int64(f.Increment)
				c.windowOpen.Broadcast()
				c.mu.Unlock()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.mu.Lock()
				c.fr.WritePing(true, f.Data)
				c.w.Flush()
				c.mu.Unlock()
			}
		case *http2.DataFrame:
			c.received += int64(f.Length)
			if c.received > ourWindow/2 {
				c.mu.Lock()
				c.fr.WriteWindowUpdate(0, uint32(c.received))
				c.w.Flush()
				c.mu.Unlock()
				c.received = 0
			}
			if f.StreamEnded() {
				c.finish(f.StreamID, errors.New("response ended without trailers"))
			}
		case *http2.MetaHeadersFrame:
			if !f.StreamEnded() {
				continue // the response's headers; the trailers end the call
			}
			status, message := "", ""
			for _, h := range f.Fields {
				switch h.Name {
				case "grpc-status":
					status = h.Value
				case "grpc-message":
					message = h.Value
				}
			}
			if status == "0" {
				c.finish(f.StreamID, nil)
			} else {
				c.finish(f.StreamID, fmt.Errorf("grpc-status %q: %s", status, message))
			}
		case *http2.RSTStreamFrame:
			c.finish(f.StreamID, fmt.Errorf("stream reset: %v", f.ErrCode))
		case *http2.GoAwayFrame:
			fail(fmt.Errorf("server sent GOAWAY: %v", f.ErrCode))
			return
		}
	}
}

func main() {
	if path := os.Getenv("LOADGEN_SLOW_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fail(err)
		}
		slowLog = f
		defer f.Close()
	}
	addr := flag.String("addr", "", "host:port")
	method := flag.String("method", "", "/package.Service/Method")
	bodiesFile := flag.String("bodies", "", "length-prefixed request messages")
	rate := flag.Float64("rate", 1000, "calls per second")
	seconds := flag.Float64("seconds", 8, "measured period")
	warmup := flag.Float64("warmup", 2, "unmeasured period before it")
	conns := flag.Int("conns", 1, "HTTP/2 connections")
	flag.Parse()

	data, err := ioutil.ReadFile(*bodiesFile)
	if err != nil {
		fail(err)
	}
	var bodies [][]byte
	for len(data) >= 4 {
		n := binary.BigEndian.Uint32(data)
		bodies = append(bodies, data[4:4+n])
		data = data[4+n:]
	}
	if len(bodies) == 0 {
		fail(fmt.Errorf("no request bodies in %s", *bodiesFile))
	}
	clients := make([]*conn, *conns)
	for i := range clients {
		c, err := dial(*addr, *method)
		if err != nil {
			fail(err)
		}
		clients[i] = c
	}
	run(clients, bodies, *rate, *warmup, false)
	r := run(clients, bodies, *rate, *seconds, true)
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func run(clients []*conn, bodies [][]byte, rate, seconds float64, record bool) result {
	total := int(rate * seconds)
	interval := time.Duration(float64(time.Second) / rate)
	p := &phase{record: record, latencies: make([]float64, 0, total), late: make([]float64, 0, total)}
	batches := make([][]*pending, len(clients))
	cpuBefore := cpuTime()
	start := time.Now()
	for k := 0; k < total; {
		if d := time.Until(start.Add(time.Duration(k) * interval)); d > 0 {
			time.Sleep(d)
		}
		// Every call due by now, written per connection and flushed together.
		now := time.Now()
		for _, c := range clients {
			c.mu.Lock()
		}
		for ; k < total && !start.Add(time.Duration(k)*interval).After(now); k++ {
			scheduled := start.Add(time.Duration(k) * interval)
			call := &pending{scheduled: scheduled, late: now.Sub(scheduled), phase: p}
			p.wg.Add(1)
			i := k % len(clients)
			if err := clients[i].write(bodies[k%len(bodies)], call); err != nil {
				call.sent = time.Now()
				p.done(call, err)
				continue
			}
			batches[i] = append(batches[i], call)
		}
		for i, c := range clients {
			if len(batches[i]) > 0 {
				// A failed write also fails the reader, which ends the calls in flight.
				c.flush(batches[i])
			}
			batches[i] = batches[i][:0]
			c.mu.Unlock()
		}
	}
	p.wg.Wait()
	r := p.r
	r.Sent = total
	r.CPUMicrosPerCall = float64((cpuTime() - cpuBefore).Microseconds()) / float64(total)
	r.Seconds = time.Since(start).Seconds()
	if !record || len(p.latencies) == 0 {
		return r
	}
	sort.Float64s(p.latencies)
	sort.Float64s(p.late)
	q := func(xs []float64, f float64) float64 { return xs[int(f*float64(len(xs)-1))] }
	r.P50, r.P99, r.P999, r.Max = q(p.latencies, 0.5), q(p.latencies, 0.99), q(p.latencies, 0.999), p.latencies[len(p.latencies)-1]
	r.LateP99 = q(p.late, 0.99)
	return r
}

// cpuTime is this process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
