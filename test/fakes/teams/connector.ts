/**
 * A fake Bot Framework Connector service (REST API v3) on 127.0.0.1, for tests that run the
 * real botbuilder CloudAdapter against it. Routes are the ones botframework-connector 4.23's
 * generated client calls (lib/connectorApi/operations/conversations.js); status codes and the
 * ErrorResponse body follow Microsoft's Connector API reference
 * (learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity } from 'botbuilder';

/** Which Connector operation a request was routed to (names as in ConnectorClient.conversations). */
export type ConnectorOperation =
  | 'createConversation'
  | 'sendToConversation'
  | 'replyToActivity'
  | 'updateActivity'
  | 'deleteActivity'
  | 'getConversationMembers'
  | 'getConversationMember'
  | 'getConversationPagedMembers'
  | 'unknown';

/** One HTTP request as the fake received it, after routing. */
export interface RecordedRequest {
  method: string;
  /** The raw request path, still percent-encoded as the client sent it. */
  path: string;
  operation: ConnectorOperation;
  /** Decoded conversation id, e.g. `19:abc@thread.tacv2;messageid=1700000000001`. */
  conversationId?: string;
  /** Decoded activity id from the path (reply, update, delete). */
  activityId?: string;
  memberId?: string;
  /** Parsed JSON body, or undefined for bodiless requests. */
  body: unknown;
  /** The Authorization header, if any (absent when the bot runs with auth disabled). */
  authorization?: string;
  /** The status the fake answered with. */
  status: number;
}

/** An activity as the fake holds it: the latest body the bot sent, with the id the fake assigned. */
export type ConnectorActivity = Partial<Activity> & { id: string };

/**
 * A Teams member as GET /members and GET /members/{userId} return it (TeamsChannelAccount):
 * `id` is the user's Teams id (MRI, `29:…`), unique to the bot; `aadObjectId` the Entra ID one.
 */
export interface TeamsMember {
  id: string;
  name: string;
  aadObjectId: string;
  email?: string;
  userPrincipalName?: string;
  givenName?: string;
  surname?: string;
  tenantId?: string;
  userRole?: 'user' | 'guest' | 'anonymous';
}

export interface FakeConnectorOptions {
  /**
   * Members every conversation has unless setMembers() says otherwise. A channel thread
   * (`channel;messageid=…`) has its channel's members.
   */
  members?: TeamsMember[];
  /** Answer the first `requests` requests with 429 and Retry-After. */
  throttle?: { requests: number; retryAfterSeconds?: number };
}

export interface FakeConnector {
  /** `http://127.0.0.1:PORT/` — with the trailing slash, as Teams sends serviceUrl. */
  serviceUrl: string;
  /** Every request in arrival order, 429s included. */
  requests: RecordedRequest[];
  /** Current state of each live (not deleted) activity in a conversation, in creation order. */
  activities(conversationId: string): ConnectorActivity[];
  /** Current state of one activity, or undefined when unknown or deleted. */
  activity(conversationId: string, activityId: string): ConnectorActivity | undefined;
  setMembers(conversationId: string, members: TeamsMember[]): void;
  /** Answer the next `requests` requests with 429 and `Retry-After: retryAfterSeconds`. */
  throttle(requests: number, retryAfterSeconds?: number): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body?: unknown;
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

async function readJson(
  req: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

type Route = Pick<RecordedRequest, 'operation' | 'conversationId' | 'activityId' | 'memberId'>;

/** Maps method + path to a Connector operation; ids are decoded segment by segment. */
function parseRoute(method: string, path: string): Route {
  // Split before decoding: ids carry ':' '@' ';' '=' which the client percent-encodes.
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { operation: 'unknown' }; // malformed percent-encoding
  }
  const [v3, resource, conversationId, sub, id, extra] = segments;
  const unknown: Route = { operation: 'unknown' };
  if (v3 !== 'v3' || resource !== 'conversations' || extra !== undefined) return unknown;
  if (conversationId === undefined) {
    return method === 'POST' ? { operation: 'createConversation' } : unknown;
  }
  const at = (operation: ConnectorOperation, more: Partial<Route> = {}): Route => ({
    operation,
    conversationId,
    ...more,
  });
  if (sub === 'activities' && id === undefined && method === 'POST')
    return at('sendToConversation');
  if (sub === 'activities' && id !== undefined) {
    if (method === 'POST') return at('replyToActivity', { activityId: id });
    if (method === 'PUT') return at('updateActivity', { activityId: id });
    if (method === 'DELETE') return at('deleteActivity', { activityId: id });
  }
  if (method !== 'GET') return unknown;
  if (sub === 'members' && id === undefined) return at('getConversationMembers');
  if (sub === 'members') return at('getConversationMember', { memberId: id });
  if (sub === 'pagedmembers' && id === undefined) return at('getConversationPagedMembers');
  return unknown;
}

export async function startFakeConnector(
  options: FakeConnectorOptions = {},
): Promise<FakeConnector> {
  const requests: RecordedRequest[] = [];
  const conversations = new Map<string, Map<string, ConnectorActivity>>();
  const members = new Map<string, TeamsMember[]>();
  const personalChats = new Map<string, string>();
  let throttled = options.throttle?.requests ?? 0;
  let retryAfter = options.throttle?.retryAfterSeconds ?? 1;
  // Teams activity ids are numeric strings (epoch milliseconds); increasing ones keep order readable.
  let nextId = 1_700_000_000_000;
  const newId = () => String(nextId++);

  const store = (conversationId: string) => {
    let map = conversations.get(conversationId);
    if (!map) conversations.set(conversationId, (map = new Map<string, ConnectorActivity>()));
    return map;
  };
  const membersOf = (conversationId: string) =>
    members.get(conversationId) ??
    members.get(conversationId.split(';messageid=')[0] ?? conversationId) ??
    options.members ??
    [];
  const post = (conversationId: string, body: unknown, replyToId?: string): Reply => {
    if (!isObject(body)) return badArgument('activity required');
    const id = newId();
    const activity = { ...body, id } as ConnectorActivity;
    if (replyToId !== undefined) activity.replyToId = replyToId;
    store(conversationId).set(id, activity);
    return { status: 201, body: { id } };
  };
  const badArgument = (message: string): Reply => ({
    status: 400,
    body: errorBody('BadArgument', message),
  });
  const notFound = (activityId: string): Reply => ({
    status: 404,
    body: errorBody('ActivityNotFound', `Activity ${activityId} not found in the conversation`),
  });

  function createConversation(body: unknown): Reply {
    if (!isObject(body)) return badArgument('parameters required');
    const channelData = isObject(body.channelData) ? body.channelData : {};
    const channel = isObject(channelData.channel) ? channelData.channel : undefined;
    if (typeof channel?.id === 'string') {
      // A new thread in a channel: Teams answers with the thread's conversation id.
      const activityId = newId();
      const id = `${channel.id};messageid=${activityId}`;
      if (isObject(body.activity)) store(id).set(activityId, { ...body.activity, id: activityId });
      return { status: 201, body: { id, activityId } };
    }
    const member: unknown = Array.isArray(body.members) ? body.members[0] : undefined;
    const memberId = isObject(member) && typeof member.id === 'string' ? member.id : undefined;
    if (!memberId) return badArgument('members[0].id required');
    // Teams hands back the same personal chat for the same user.
    let id = personalChats.get(memberId);
    if (!id) personalChats.set(memberId, (id = `a:fake-personal-${personalChats.size + 1}`));
    if (!isObject(body.activity)) return { status: 201, body: { id } };
    const activityId = newId();
    store(id).set(activityId, { ...body.activity, id: activityId });
    return { status: 201, body: { id, activityId } };
  }

  function apply(route: Route, body: unknown): Reply {
    const { operation, conversationId = '', activityId = '', memberId } = route;
    const activities = conversations.get(conversationId);
    switch (operation) {
      case 'createConversation':
        return createConversation(body);
      case 'sendToConversation':
        return post(conversationId, body);
      case 'replyToActivity':
        // Teams accepts a reply to any id in the conversation; the parent need not be one of ours.
        return post(conversationId, body, activityId);
      case 'updateActivity':
        if (!activities?.has(activityId)) return notFound(activityId);
        if (!isObject(body)) return badArgument('activity required');
        activities.set(activityId, { ...body, id: activityId });
        return { status: 200, body: { id: activityId } };
      case 'deleteActivity':
        return activities?.delete(activityId) ? { status: 200 } : notFound(activityId);
      case 'getConversationMembers':
        return { status: 200, body: membersOf(conversationId) };
      case 'getConversationPagedMembers':
        return { status: 200, body: { members: membersOf(conversationId) } };
      case 'getConversationMember': {
        // Teams takes the user's MRI, Entra ID object id or UPN (the latter two in any case).
        const wanted = memberId?.toLowerCase();
        const m = membersOf(conversationId).find(
          (x) =>
            x.id === memberId ||
            x.aadObjectId.toLowerCase() === wanted ||
            x.userPrincipalName?.toLowerCase() === wanted,
        );
        if (m) return { status: 200, body: m };
        return {
          status: 404,
          body: errorBody('MemberNotFoundInConversation', `${memberId} is not in the conversation`),
        };
      }
      case 'unknown':
        return { status: 404, body: errorBody('NotFound', 'No such Connector route') };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const parsed = await readJson(req);
    const route = parseRoute(method, path);
    const rec: RecordedRequest = {
      method,
      path,
      ...route,
      body: parsed.ok ? parsed.value : undefined,
      status: 0,
    };
    if (req.headers.authorization !== undefined) rec.authorization = req.headers.authorization;
    requests.push(rec);
    let reply: Reply;
    if (throttled > 0) {
      // A throttled request changes nothing; the client is expected to retry after Retry-After.
      throttled--;
      res.setHeader('Retry-After', String(retryAfter));
      reply = {
        status: 429,
        body: errorBody('TooManyRequests', 'Throttled by the fake connector'),
      };
    } else if (!parsed.ok) {
      reply = { status: 400, body: errorBody('BadSyntax', 'Body is not JSON') };
    } else {
      reply = apply(route, parsed.value);
    }
    rec.status = reply.status;
    if (reply.body === undefined) {
      res.writeHead(reply.status).end();
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(reply.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody('ServiceError', String(err))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    serviceUrl: `http://127.0.0.1:${port}/`,
    requests,
    // Copies, so a test cannot change what the fake holds.
    activities: (conversationId) =>
      structuredClone([...(conversations.get(conversationId)?.values() ?? [])]),
    activity: (conversationId, activityId) =>
      structuredClone(conversations.get(conversationId)?.get(activityId)),
    setMembers: (conversationId, list) => void members.set(conversationId, list),
    throttle(count, retryAfterSeconds = 1) {
      throttled = count;
      retryAfter = retryAfterSeconds;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
