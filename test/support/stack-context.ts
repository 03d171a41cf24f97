// Only for test/support/bank.ts, which moves into the bank package in another change: point it at
// @dtm-gozero/devkit/stack and delete this file (nothing else imports it).
export { testStack } from '@dtm-gozero/devkit/stack';
