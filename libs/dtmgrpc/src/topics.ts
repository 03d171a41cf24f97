// Topics (dtm's `Subscribe` / `Unsubscribe` / `DeleteTopic`): a msg step `topic://<name>` is sent to every URL
// subscribed to the topic. dtm reloads its topics every ConfigUpdateInterval (3 s by default), so a new
// subscription is used only after that.

import { splitUrl } from './branch.ts';
import { dtmCall } from './conn.ts';
import { DtmInputError } from './errors.ts';
import { DtmService } from './gen/dtmgimp.ts';

export const TOPIC_PREFIX = 'topic://';

/** Checks a topic name: non-empty, no `topic://` prefix (dtm adds it), no spaces. */
export function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic === '')
    throw new DtmInputError('topic is empty; pass its name, e.g. "orders"');
  if (topic.startsWith(TOPIC_PREFIX)) {
    throw new DtmInputError(`topic '${topic}': pass the name without '${TOPIC_PREFIX}'`);
  }
  if (/\s/.test(topic)) throw new DtmInputError(`topic '${topic}' contains white space`);
  return topic;
}

async function topicCall(
  dtm: string,
  rpc: 'subscribe' | 'unsubscribe' | 'deleteTopic',
  req: { Topic: string; URL: string; Remark: string },
  timeoutMs?: number,
): Promise<void> {
  if (!dtm) throw new DtmInputError('dtm address is empty; pass e.g. etcd://localhost:2379/dtmservice');
  await dtmCall(dtm, DtmService[rpc], req, `${rpc} '${req.Topic}'${req.URL ? ` ${req.URL}` : ''}`, { timeoutMs });
}

/**
 * Subscribes a branch URL (`server + "/pkg.Svc/Method"`) to a topic, creating the topic; dtm uses it from its next
 * topic reload (ConfigUpdateInterval, 3 s). dtm refuses a URL that is subscribed already.
 */
export async function subscribe(
  dtm: string,
  topic: string,
  url: string,
  remark = '',
  timeoutMs?: number,
): Promise<void> {
  checkTopic(topic);
  splitUrl(url); // a branch URL dtm's go-zero driver can split
  await topicCall(dtm, 'subscribe', { Topic: topic, URL: url, Remark: remark }, timeoutMs);
}

/** Removes a URL from a topic; DtmTopicError when the topic or the URL is unknown to dtm. */
export async function unsubscribe(dtm: string, topic: string, url: string, timeoutMs?: number): Promise<void> {
  checkTopic(topic);
  if (!url) throw new DtmInputError(`unsubscribe '${topic}': the URL is empty`);
  await topicCall(dtm, 'unsubscribe', { Topic: topic, URL: url, Remark: '' }, timeoutMs);
}

/** Deletes a topic and its subscriptions. */
export async function deleteTopic(dtm: string, topic: string, timeoutMs?: number): Promise<void> {
  checkTopic(topic);
  await topicCall(dtm, 'deleteTopic', { Topic: topic, URL: '', Remark: '' }, timeoutMs);
}
