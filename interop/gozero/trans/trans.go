// Command go-trans is the Go twin of apps/trans (and of dtm's gozero/trans example): a go-zero zrpc server for
// trans.TransSvc that registers in etcd with go-zero's discov and logs one log.Printf line per call.
package main

import (
	"flag"
	"fmt"

	"dtm-gozero-ts/interop/gozero/pb"

	"github.com/zeromicro/go-zero/core/conf"
	"github.com/zeromicro/go-zero/core/service"
	"github.com/zeromicro/go-zero/zrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
)

var configFile = flag.String("f", "etc/trans.yaml", "the config file")

// Config is the example's internal/config.Config.
type Config struct {
	zrpc.RpcServerConf
}

func main() {
	flag.Parse()

	var c Config
	conf.MustLoad(*configFile, &c)

	s := zrpc.MustNewServer(c.RpcServerConf, func(grpcServer *grpc.Server) {
		pb.RegisterTransSvcServer(grpcServer, &transSvcServer{})
		// goctl's template: reflection only in dev and test mode.
		if c.Mode == service.DevMode || c.Mode == service.TestMode {
			reflection.Register(grpcServer)
		}
	})
	defer s.Stop()

	fmt.Printf("Starting rpc server at %s...\n", c.ListenOn)
	s.Start()
}
