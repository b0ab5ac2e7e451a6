// Open-loop gRPC load generator for bench/serving, in Go: grpc-go's client
// costs a few microseconds of CPU per call and Go's collector runs
// concurrently, so the generator neither takes the server's cores nor puts
// pauses of its own into the latency tail (a Node client did both; h2load's
// rate mode adds about a millisecond to every call on this machine).
//
// Each call is sent at its scheduled time whether or not earlier calls
// finished (each in a goroutine of its own, so a slow response never delays
// the next send). Latency runs from the send to the end of the response. Go's
// timers fire up to about a millisecond late, so calls leave in small bursts;
// how late they left is printed too (lateP99).
//
// Build (GOPATH mode, Debian golang-go + golang-google-grpc-dev):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o loadgen bench/serving/loadgen/main.go
// Run: loadgen -addr 127.0.0.1:50055 -method /pkg.Service/Method -bodies FILE -rate 2000 -seconds 8 -warmup 2
// FILE holds request messages, each a 4-byte big-endian length and the bytes;
// calls cycle through them. Prints one JSON line.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// rawCodec sends and receives message bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	p := v.(*[]byte)
	*p = append((*p)[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

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
}

// slowLog (LOADGEN_SLOW_LOG=file): every measured call over 2 ms, as "unix-ms latency-ms late-ms".
var slowLog *os.File

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
	clients := make([]*grpc.ClientConn, *conns)
	for i := range clients {
		c, err := grpc.Dial(*addr, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		if err != nil {
			fail(err)
		}
		clients[i] = c
	}
	run(clients, *method, bodies, *rate, *warmup, false)
	r := run(clients, *method, bodies, *rate, *seconds, true)
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func run(clients []*grpc.ClientConn, method string, bodies [][]byte, rate, seconds float64, record bool) result {
	total := int(rate * seconds)
	interval := time.Duration(float64(time.Second) / rate)
	latencies := make([]float64, 0, total)
	late := make([]float64, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var r result
	start := time.Now()
	for k := 0; k < total; k++ {
		scheduled := start.Add(time.Duration(k) * interval)
		if d := time.Until(scheduled); d > 0 {
			time.Sleep(d)
		}
		sentLate := time.Since(scheduled)
		body := bodies[k%len(bodies)]
		conn := clients[k%len(clients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var reply []byte
			sent := time.Now()
			err := conn.Invoke(context.Background(), method, &body, &reply)
			elapsed := time.Since(sent)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.Errors++
				if r.FirstError == "" {
					r.FirstError = err.Error()
				}
				return
			}
			r.Ok++
			if record && slowLog != nil && elapsed > 2*time.Millisecond {
				fmt.Fprintf(slowLog, "%d %.2f %.2f\n", scheduled.UnixNano()/1e6, float64(elapsed.Microseconds())/1000, float64(sentLate.Microseconds())/1000)
			}
			latencies = append(latencies, float64(elapsed.Microseconds())/1000)
			late = append(late, float64(sentLate.Microseconds())/1000)
		}()
	}
	r.Sent = total
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	if !record || len(latencies) == 0 {
		return r
	}
	sort.Float64s(latencies)
	sort.Float64s(late)
	q := func(xs []float64, p float64) float64 { return xs[int(p*float64(len(xs)-1))] }
	r.P50, r.P99, r.P999, r.Max = q(latencies, 0.5), q(latencies, 0.99), q(latencies, 0.999), latencies[len(latencies)-1]
	r.LateP99 = q(late, 0.99)
	return r
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
