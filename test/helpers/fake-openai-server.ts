/**
 * A local OpenAI-compatible HTTP server on loopback for tests: answers
 * POST .../chat/completions from a script (one entry per request, in order),
 * records every request (method, url, headers, raw body), and can hang
 * (never answer) or drop the connection. Requests beyond the script get a 500
 * "unscripted request" so a test notices.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw request body (UTF-8). */
  bodyText: string;
  /** UTF-8 bytes of the raw body. */
  bodyBytes: number;
  /** Parsed body, or undefined when it is not JSON. */
  body: unknown;
}

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Object → JSON; string → sent as is. */
  body?: unknown;
  /** Wait before answering, ms. */
  delayMs?: number;
  /** Never answer (the socket stays open until close()). */
  hang?: boolean;
  /** Destroy the socket without answering. */
  destroy?: boolean;
}

export type Script = ScriptedResponse | ((req: RecordedRequest) => ScriptedResponse);

export class FakeOpenAiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Script[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Used when the queue is empty; default: 500 unscripted. */
  fallbackScript: Script | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeOpenAiServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const fake = new FakeOpenAiServer(server, port);
    server.on('connection', (s: Socket) => {
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => fake.handle(req, res));
    return fake;
  }

  /** Base URL for the OpenAI client (…/v1). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Queue responses for the next requests, in order. */
  script(...responses: Script[]): this {
    this.queue.push(...responses);
    return this;
  }

  /** Chat-completion requests received so far. */
  get completions(): RecordedRequest[] {
    return this.requests.filter((r) => r.url.endsWith('/chat/completions'));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const bodyText = raw.toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(bodyText);
      } catch {
        body = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: { ...req.headers },
        bodyText,
        bodyBytes: raw.length,
        body,
      };
      this.requests.push(recorded);
      const next = this.queue.shift() ?? this.fallbackScript ?? { status: 500, body: { error: { message: 'unscripted request' } } };
      const scripted = typeof next === 'function' ? next(recorded) : next;
      this.respond(res, scripted);
    });
  }

  private respond(res: ServerResponse, r: ScriptedResponse): void {
    if (r.hang) return;
    if (r.destroy) {
      res.socket?.destroy();
      return;
    }
    const send = (): void => {
      const isText = typeof r.body === 'string';
      const payload = r.body === undefined ? '' : isText ? (r.body as string) : JSON.stringify(r.body);
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...(r.headers ?? {}) });
      res.end(payload);
    };
    if (r.delayMs && r.delayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send();
      }, r.delayMs);
      this.timers.add(t);
    } else send();
  }
}

/** A chat completion whose message calls `name` with `args` (object → JSON text; string → as is). */
export function toolCallCompletion(
  args: unknown,
  options: { name?: string; usage?: { prompt_tokens: number; completion_tokens: number }; model?: string } = {},
): ScriptedResponse {
  const usage = options.usage ?? { prompt_tokens: 321, completion_tokens: 42 };
  return {
    status: 200,
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: options.model ?? 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          logprobs: null,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: options.name ?? 'set_lighting', arguments: typeof args === 'string' ? args : JSON.stringify(args) },
              },
            ],
          },
        },
      ],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    },
  };
}

/** A chat completion with a refusal and no tool call. */
export function refusalCompletion(refusal = "I can't help with that."): ScriptedResponse {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-refusal',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: null, refusal } }],
      usage: { prompt_tokens: 300, completion_tokens: 9, total_tokens: 309 },
    },
  };
}

/** A chat completion with plain text and no tool call. */
export function textCompletion(text: string): ScriptedResponse {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-text',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: text, refusal: null } }],
      usage: { prompt_tokens: 300, completion_tokens: 12, total_tokens: 312 },
    },
  };
}

/** An OpenAI-style error response. */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): ScriptedResponse {
  return { status, headers, body: { error: { message, type: 'test_error', param: null, code: null } } };
}

/** A loopback port nobody listens on (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
