// Command go-app is the Go twin of apps/app's default run (and of dtm's gozero/app example): through dtm's Go
// client with its go-zero driver, a 2-phase message (TransOut, TransIn) then a TCC (TransOut as try, confirm and
// cancel), each with WaitResult; prints `<mode> <gid> <final status>` per transaction, as apps/app does.
//
// With -bench-worker it serves the load generator of `npm run bench` instead (see bench.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"dtm-gozero-ts/interop/gozero/pb"
	"dtm-gozero-ts/interop/gozero/twin"

	"github.com/dtm-labs/client/dtmgrpc"
	driver "github.com/dtm-labs/dtmdriver-gozero"
	"github.com/dtm-labs/logger"
	"github.com/zeromicro/go-zero/core/conf"
	"github.com/zeromicro/go-zero/core/logx"
	"github.com/zeromicro/go-zero/zrpc"
)

var (
	configFile  = flag.String("f", "etc/config.yaml", "the config file (the example's zrpc.RpcClientConf)")
	dtmServer   = flag.String("dtm", envOr("DTM_TARGET", "etcd://localhost:2379/dtmservice"), "dtm's target")
	dtmHTTP     = flag.String("dtm-http", envOr("DTM_HTTP", "http://localhost:36789"), "dtm's HTTP API, to read final statuses")
	benchWorker = flag.Bool("bench-worker", false, "serve `npm run bench` on stdin/stdout")
	outReq      = &pb.AdjustInfo{Amount: 30, UserID: 1}
	inReq       = &pb.AdjustInfo{Amount: 30, UserID: 2}
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var fatal = twin.Fatal("go-app")

func main() {
	flag.Parse()
	// Like apps/app, nothing logged per call: the dtm client logs every branch call at info level by default.
	logger.InitLog2("warn", "stderr", 0, "") // stdout carries the results (and the bench protocol)
	logx.Disable()
	if err := dtmgrpc.UseDriver(driver.DriverName); err != nil {
		fatal("%v", err)
	}

	if *benchWorker {
		serveBench(*dtmServer)
		return
	}

	var c zrpc.RpcClientConf
	if err := conf.Load(*configFile, &c); err != nil {
		fatal("config %s: %v", *configFile, err)
	}
	busiServer, err := c.BuildTarget()
	if err != nil {
		fatal("config %s: %v", *configFile, err)
	}
	busiServer = v14Target(busiServer)

	// dtm's client blocks without a bound when dtm or trans cannot be found; bound the whole run.
	twin.Deadline(30*time.Second, fatal, " (is dtm running and registered?)")
	msgGid, err := msg(*dtmServer, busiServer)
	if err != nil {
		fatal("msg: %v", err)
	}
	tccGid, err := tcc(*dtmServer, busiServer)
	if err != nil {
		fatal("tcc: %v", err)
	}
	ok := true
	for _, r := range [][2]string{{"msg", msgGid}, {"tcc", tccGid}} {
		st := finalStatus(r[1])
		fmt.Printf("%s %s %s\n", r[0], r[1], st)
		ok = ok && st == "succeed"
	}
	if !ok {
		fatal("a global transaction did not end as expected")
	}
}

// msg: Submit returns after dtm called both branches (WaitResult), so the msg's lines come before the TCC's.
func msg(dtm, busiServer string) (string, error) {
	gid, err := genGid(dtm)
	if err != nil {
		return "", err
	}
	m := dtmgrpc.NewMsgGrpc(dtm, gid).
		Add(busiServer+"/trans.TransSvc/TransOut", outReq).
		Add(busiServer+"/trans.TransSvc/TransIn", inReq)
	m.WaitResult = true
	return gid, m.Submit()
}

// tcc: as in the Go example, TransOut stands in for try, confirm and cancel.
func tcc(dtm, busiServer string) (string, error) {
	gid, err := genGid(dtm)
	if err != nil {
		return "", err
	}
	err = dtmgrpc.TccGlobalTransaction2(dtm, gid, func(t *dtmgrpc.TccGrpc) { t.WaitResult = true },
		func(t *dtmgrpc.TccGrpc) error {
			out := busiServer + "/trans.TransSvc/TransOut"
			return t.CallBranch(outReq, out, out, out, &pb.Response{})
		})
	return gid, err
}

// genGid is MustGenGid without the panic.
func genGid(dtm string) (gid string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("dtm NewGid via %s failed: %v", dtm, r)
		}
	}()
	return dtmgrpc.MustGenGid(dtm), nil
}

// finalStatus reads the status dtm stored; with WaitResult an OK Submit already means succeed.
func finalStatus(gid string) string {
	cl := http.Client{Timeout: 5 * time.Second}
	res, err := cl.Get(*dtmHTTP + "/api/dtmsvr/query?gid=" + url.QueryEscape(gid))
	if err != nil {
		return "succeed"
	}
	defer res.Body.Close()
	var body struct {
		Transaction *struct {
			Status string `json:"status"`
		} `json:"transaction"`
	}
	if json.NewDecoder(res.Body).Decode(&body) != nil || body.Transaction == nil {
		return "unknown"
	}
	return body.Transaction.Status
}

// v14Target turns go-zero v1.10.2+'s etcd:///h1,h2?key=k (what BuildTarget yields there) into v1.4's
// etcd://h1,h2/k: dtm's go-zero driver splits branch URLs by path, so only that form works in a branch URL.
// With go-zero v1.4 BuildTarget already yields it and this is a no-op.
func v14Target(t string) string {
	u, err := url.Parse(t)
	if err != nil || u.Host != "" || (u.Scheme != "etcd" && u.Scheme != "discov") {
		return t
	}
	key := u.Query().Get("key")
	if key == "" {
		return t
	}
	return u.Scheme + "://" + strings.Trim(u.Path, "/") + "/" + key
}
