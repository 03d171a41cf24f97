import { loadServerConf, type RpcServerConf } from '@dtm-gozero/gozero';

/** trans's configuration: go-zero's RpcServerConf, nothing added (as goctl's config.go embeds zrpc.RpcServerConf). */
export type Config = RpcServerConf;

export const loadConfig = (file: string): Config => loadServerConf(file);
