// Command go-trans-client calls trans.TransSvc the way the Go go-zero example's app would:
// a zrpc client resolved through etcd (go-zero v1.4.4 discovery), no generated code.
// AdjustInfo is encoded by hand with protowire and sent through a pass-through codec.
//
// Exit 0 and prints "ok" on success; exits non-zero (message on stderr) on any error,
// always within -timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/zeromicro/go-zero/core/discov"
	"github.com/zeromicro/go-zero/core/logx"
	"github.com/zeromicro/go-zero/zrpc"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"

	"dtm-gozero-ts/interop/gozero/twin"
)

// adjustInfo encodes trans.AdjustInfo {int64 Amount = 1; int64 UserID = 2;}.
// Proto3 omits zero values, as generated code would.
func adjustInfo(amount, user int64) []byte {
	var b []byte
	if amount != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(amount))
	}
	if user != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(user))
	}
	return b
}

var fail = twin.Fatal("go-trans-client")

func main() {
	etcdHosts := flag.String("etcd", "127.0.0.1:2379", "etcd hosts, comma-separated")
	key := flag.String("key", "trans", "etcd key trans registered under")
	target := flag.String("target", "", "full zrpc target (e.g. etcd://127.0.0.1:2379/trans); overrides -etcd/-key")
	amount := flag.Int64("amount", 30, "AdjustInfo.Amount")
	user := flag.Int64("user", 1, "AdjustInfo.UserID")
	method := flag.String("method", "TransOut", "TransOut or TransIn")
	timeout := flag.Duration("timeout", 5*time.Second, "overall deadline")
	calls := flag.Int("n", 1, "calls to make through the one client (go-zero's p2c balancer spreads them)")
	parallel := flag.Int("c", 1, "calls in flight at once")
	app := flag.String("app", "", "RpcClientConf.App: with -token, sent as go-zero's per-call credentials (Auth)")
	token := flag.String("token", "", "RpcClientConf.Token")
	flag.Parse()

	logx.Disable()
	// Hard stop: whatever blocks (dial, resolver, call), never run past the deadline.
	twin.Deadline(*timeout, fail, "")

	// Timeout and Middlewares as conf.MustLoad would fill them from their defaults.
	conf := zrpc.RpcClientConf{
		Timeout: 2000,
		Middlewares: zrpc.ClientMiddlewaresConf{
			Trace: true, Duration: true, Prometheus: true, Breaker: true, Timeout: true,
		},
	}
	conf.App, conf.Token = *app, *token
	if *target != "" {
		conf.Target = *target
	} else {
		conf.Etcd = discov.EtcdConf{Hosts: strings.Split(*etcdHosts, ","), Key: *key}
	}

	// NewClient dials blocking (go-zero: 3 s), so "nothing registered" fails here.
	cli, err := zrpc.NewClient(conf)
	if err != nil {
		fail("%v", err)
	}
	defer cli.Conn().Close()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req := adjustInfo(*amount, *user)
	fullMethod := "/trans.TransSvc/" + *method
	call := func() {
		var resp []byte
		if err := cli.Conn().Invoke(ctx, fullMethod, &req, &resp, grpc.ForceCodec(twin.RawCodec{})); err != nil {
			fail("%s: %v", fullMethod, err)
		}
		if len(resp) != 0 {
			fail("%s: expected an empty Response, got %x", fullMethod, resp)
		}
	}
	next := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < *parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				call()
			}
		}()
	}
	for i := 0; i < *calls; i++ {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	fmt.Println("ok")
}
