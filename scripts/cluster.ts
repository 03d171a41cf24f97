// Kept only for scripts/bench.ts, whose move to tools/bench is in flight (issue #17): the cluster, chaos and their
// MariaDB now live in tools/chaos. Delete this file once bench imports @dtm-gozero/chaos/mariadb.
export { startOwnMariadb } from '@dtm-gozero/chaos/mariadb';
