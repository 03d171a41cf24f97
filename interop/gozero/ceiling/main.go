// Command go-ceiling is the benchmark's ceiling: a minimal gRPC server (grpc-go, no go-zero interceptors, no
// logging) that answers every method at once with an empty message, registered in etcd with go-zero's discov like
// trans. Branches cost nothing here, so what a stack reaches against it is what dtm itself allows.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"dtm-gozero-ts/interop/gozero/twin"

	"github.com/zeromicro/go-zero/core/discov"
	"github.com/zeromicro/go-zero/core/logx"
	"google.golang.org/grpc"
)

var fatal = twin.Fatal("go-ceiling")

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	etcd := flag.String("etcd", "127.0.0.1:2379", "etcd hosts, comma-separated; empty: do not register")
	key := flag.String("key", "ceiling", "etcd key to register under")
	flag.Parse()
	logx.Disable()

	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fatal("listen %s: %v", *listen, err)
	}
	s := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var m []byte
		_ = stream.RecvMsg(&m)
		return stream.SendMsg(&[]byte{})
	}), grpc.ForceServerCodec(twin.RawCodec{}))
	var pub *discov.Publisher
	if *etcd != "" {
		pub = discov.NewPublisher(strings.Split(*etcd, ","), *key, lis.Addr().String())
		if err := pub.KeepAlive(); err != nil {
			fatal("register in etcd %s: %v", *etcd, err)
		}
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		if pub != nil {
			pub.Stop()
		}
		s.Stop()
	}()
	fmt.Printf("Starting rpc server at %s...\n", lis.Addr())
	_ = s.Serve(lis)
}
