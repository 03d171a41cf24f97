package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"dtm-gozero-ts/interop/gozero/pb"

	"github.com/dtm-labs/client/dtmgrpc"
)

// The load-generator protocol `npm run bench` speaks with this worker and its TypeScript twin
// (tools/bench/src/worker.ts; the protocol: tools/bench/src/protocol.ts): "ready" once warmed up; then per stdin line {mode, concurrency, durationMs, busi} one
// stdout line with what happened ({mem: true}: the heap after a GC); EOF ends the worker. A long-lived process, so that /proc's CPU time around a
// level counts only that level's transactions.
type benchReq struct {
	Mode        string `json:"mode"`
	Concurrency int    `json:"concurrency"`
	DurationMs  int    `json:"durationMs"`
	Busi        string `json:"busi"`
	Mem         bool   `json:"mem"`
}

type benchRes struct {
	Ok           int      `json:"ok"`
	Errors       int      `json:"errors"`
	ErrorSamples []string `json:"errorSamples"`
	ErrorGids    []string `json:"errorGids"`
	LatUs        []int64  `json:"latUs"`
	ElapsedMs    float64  `json:"elapsedMs"`
}

// oneTx runs one global transaction of the mode, waiting for dtm's result.
func oneTx(mode, gid, dtm, busi string) error {
	switch mode {
	case "msg":
		m := dtmgrpc.NewMsgGrpc(dtm, gid).
			Add(busi+"/trans.TransSvc/TransOut", outReq).
			Add(busi+"/trans.TransSvc/TransIn", inReq)
		m.WaitResult = true
		return m.Submit()
	case "saga":
		s := dtmgrpc.NewSagaGrpc(dtm, gid).
			Add(busi+"/trans.TransSvc/TransOut", busi+"/trans.TransSvc/TransOutRevert", outReq).
			Add(busi+"/trans.TransSvc/TransIn", busi+"/trans.TransSvc/TransInRevert", inReq)
		s.WaitResult = true
		return s.Submit()
	case "tcc":
		return dtmgrpc.TccGlobalTransaction2(dtm, gid, func(t *dtmgrpc.TccGrpc) { t.WaitResult = true },
			func(t *dtmgrpc.TccGrpc) error {
				if err := t.CallBranch(outReq, busi+"/trans.TransSvc/TransOut", busi+"/trans.TransSvc/TransOutConfirm",
					busi+"/trans.TransSvc/TransOutRevert", &pb.Response{}); err != nil {
					return err
				}
				return t.CallBranch(inReq, busi+"/trans.TransSvc/TransIn", busi+"/trans.TransSvc/TransInConfirm",
					busi+"/trans.TransSvc/TransInRevert", &pb.Response{})
			})
	}
	return fmt.Errorf("unknown mode %q (msg, tcc, saga)", mode)
}

// safeTx turns the client's panics (Must* helpers) into errors.
func safeTx(mode, dtm, busi string) (gid string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if gid, err = genGid(dtm); err != nil {
		return "", err
	}
	return gid, oneTx(mode, gid, dtm, busi)
}

func runLevel(req benchReq, dtm string) benchRes {
	busi := req.Busi
	var mu sync.Mutex
	res := benchRes{ErrorSamples: []string{}, ErrorGids: []string{}, LatUs: make([]int64, 0, 1<<14)}
	var wg sync.WaitGroup
	var stop atomic.Bool
	started := time.Now()
	time.AfterFunc(time.Duration(req.DurationMs)*time.Millisecond, func() { stop.Store(true) })
	for i := 0; i < req.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				t := time.Now()
				gid, err := safeTx(req.Mode, dtm, busi)
				us := time.Since(t).Microseconds()
				mu.Lock()
				if err != nil {
					res.Errors++
					if len(res.ErrorSamples) < 5 {
						res.ErrorSamples = append(res.ErrorSamples, err.Error())
					}
					if gid != "" && len(res.ErrorGids) < 5 {
						res.ErrorGids = append(res.ErrorGids, gid)
					}
				} else {
					res.Ok++
					res.LatUs = append(res.LatUs, us)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.ElapsedMs = float64(time.Since(started).Microseconds()) / 1000
	return res
}

func serveBench(dtm string) {
	// Warm up: resolve dtm, open its connection.
	if _, err := genGid(dtm); err != nil {
		fatal("warm-up: %v", err)
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var req benchReq
		err := json.Unmarshal(in.Bytes(), &req)
		if err == nil && req.Mem {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b, _ := json.Marshal(map[string]uint64{"heapUsed": ms.HeapAlloc})
			out.Write(append(b, '\n'))
			out.Flush()
			continue
		}
		if err != nil || req.Concurrency < 1 || req.DurationMs < 1 || req.Busi == "" {
			fatal("bad request %q: want {\"mode\":\"msg\",\"concurrency\":16,\"durationMs\":5000,\"busi\":\"<target>\"}", in.Text())
		}
		b, _ := json.Marshal(runLevel(req, dtm))
		out.Write(b)
		out.WriteByte('\n')
		out.Flush()
	}
}
