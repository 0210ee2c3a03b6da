/**
 * apps.connections.open as documented on
 * https://docs.slack.dev/reference/methods/apps.connections.open: called with an app-level
 * token (xapp-…, scope connections:write) in the Authorization header, it answers
 * `{ ok: true, url: "wss://…/link/?ticket=…&app_id=…" }` — here a ws:// URL of the fake
 * Socket Mode server (socket-mode.ts). Token checks live in web-api.ts (`tokenType: 'app'`).
 */
import type { SocketModeServer } from './socket-mode.js';
import type { MethodSpec } from './state.js';
import { FAKE_WORKSPACE } from './workspace.js';

export function appMethods(socketMode: SocketModeServer): Record<string, MethodSpec> {
  return {
    'apps.connections.open': {
      scopes: ['connections:write'],
      tokenType: 'app',
      handle: () => ({ ok: true, url: socketMode.issueUrl(FAKE_WORKSPACE.appId) }),
    },
  };
}
