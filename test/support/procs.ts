// Only for test/support/bank.ts, which moves into the bank package in another change: point it at
// @dtm-gozero/devkit and delete this file (nothing else imports it).
export { freePort, type Proc, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
