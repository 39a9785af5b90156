/**
 * ai-decide: asks an OpenAI model for a setpoint from feature windows, checks
 * the answer against the tool schema and safety clamps, and falls back to the
 * rules when the model is unavailable (no key, timeout, open circuit, invalid
 * answer). Skeleton: holds its configuration and answers every message with an
 * error until the behaviour arrives.
 */
import type { Node, NodeAPI } from 'node-red';
import { idleStatus, rejectInputNotImplemented } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';

interface AiDecideCredentials {
  apiKey?: string;
}

interface AiDecideSettings {
  model: string;
  /** Blank = the OpenAI default endpoint. */
  baseUrl: string;
  timeoutMs: number;
  payloadCapBytes: number;
  /** Feature windows sent per request (1..3). */
  payloadBatchLimit: number;
  /** Consecutive failures that open the circuit. */
  circuitFailures: number;
  circuitCooldownS: number;
}

interface AiDecideNode extends Node<AiDecideCredentials> {
  settings: AiDecideSettings;
  /** True when a key is set here or in the OPENAI_API_KEY environment variable (the key itself is never copied). */
  hasApiKey: boolean;
}

export = function (RED: NodeAPI): void {
  function AiDecide(this: AiDecideNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    this.settings = {
      model: read.text('model', 'gpt-4o-mini') || 'gpt-4o-mini',
      baseUrl: read.text('baseUrl'),
      timeoutMs: read.number('timeoutMs', 8000, 100, 120000, true),
      payloadCapBytes: read.number('payloadCapBytes', 2048, 256, 65536, true),
      payloadBatchLimit: read.number('payloadBatchLimit', 3, 1, 3, true),
      circuitFailures: read.number('circuitFailures', 3, 1, 100, true),
      circuitCooldownS: read.number('circuitCooldownS', 300, 1, 86400, true),
    };
    const key = this.credentials?.apiKey ?? '';
    this.hasApiKey = key !== '' || (process.env.OPENAI_API_KEY ?? '') !== '';
    this.status(
      this.hasApiKey
        ? idleStatus(RED, this, true)
        : { fill: 'grey', shape: 'ring', text: RED._('ai-decide.status.noApiKey') },
    );
    rejectInputNotImplemented(RED, this);

    this.on('close', (_removed: boolean, done: () => void) => {
      // No request can be in flight yet; the OpenAI client arrives with the AI issue.
      done();
    });
  }

  RED.nodes.registerType<AiDecideNode, NodeConfig, unknown, AiDecideCredentials>('ai-decide', AiDecide, {
    credentials: { apiKey: { type: 'password' } },
  });
};
