/**
 * The parent's side of bench/slack/bot.ts — forking the bot process and talking to it —
 * and Slack's side of the front door: signed requests timed from send to HTTP response.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import type { SlackPayload } from '../../test/fakes/slack/payloads.js';
import { signSlackRequest } from '../../test/fakes/slack/sign.js';
import type { BotConfig, BotMessage, ParentMessage } from './bot.js';
import { SECRET } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface BotProcess {
  pid: number;
  url: string;
  ask(m: ParentMessage): void;
  stats(): Promise<Extract<BotMessage, { type: 'stats' }>>;
  stop(): Promise<void>;
}

export async function startBot(config: BotConfig): Promise<BotProcess> {
  const child = fork(path.join(here, 'bot.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_SLACK_BOT: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: BotMessage) => {
      if (m.type === 'ready') resolve(m.url);
      else if (m.type === 'error') reject(new Error(`bot failed:\n${m.message}`));
    });
    void exited.then(() => reject(new Error('bot exited before it was ready')));
  });
  return {
    pid: child.pid!,
    url,
    ask: (m) => void child.send(m),
    stats: () =>
      new Promise((resolve) => {
        const on = (m: BotMessage) => {
          if (m.type !== 'stats') return;
          child.off('message', on);
          resolve(m);
        };
        child.on('message', on);
        child.send({ type: 'stats' } satisfies ParentMessage);
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** POSTs a payload signed as Slack signs it; ms = send → full HTTP response (status 0: no answer). */
export async function sendSigned(
  url: string,
  p: SlackPayload,
): Promise<{ ms: number; status: number }> {
  const headers = {
    'content-type': p.contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...signSlackRequest(SECRET, p.body),
  };
  const start = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: p.body,
      signal: AbortSignal.timeout(30_000),
    });
    await res.text();
    return { ms: performance.now() - start, status: res.status };
  } catch {
    return { ms: performance.now() - start, status: 0 };
  }
}
