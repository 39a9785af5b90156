/**
 * ai-provider: configuration of an OpenAI (or OpenAI-compatible) endpoint,
 * shared by ai-decide nodes. It owns nothing long-lived: each ai-decide builds
 * its own client (and circuit breaker) from these settings.
 *
 * The API key is a Node-RED credential (type password: encrypted in the
 * credentials file, never exported with the flow, never sent back to the
 * editor). When it is blank, the OPENAI_API_KEY environment variable of the
 * Node-RED process is used. The key is read on demand by `apiKey()` and is
 * never copied into a property, a setting, a status, a log line or a message.
 */
import type { NodeAPI } from 'node-red';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import type { AiProviderCredentials, AiProviderNode, ApiKeySource } from '../shared/ai-provider';

const DEFAULT_MODEL = 'gpt-4o-mini';
const MODEL_NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

function usableBaseUrl(value: string): boolean {
  if (value === '') return true;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export = function (RED: NodeAPI): void {
  function AiProvider(this: AiProviderNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const invalid = (name: string, value: string, fallback: string): void => {
      this.warn(RED._('ai-provider.errors.invalidSetting', { name, value, fallback }));
    };

    let model = read.text('model', DEFAULT_MODEL) || DEFAULT_MODEL;
    if (!MODEL_NAME.test(model)) {
      invalid('model', model, DEFAULT_MODEL);
      model = DEFAULT_MODEL;
    }
    let baseUrl = read.text('baseUrl');
    if (!usableBaseUrl(baseUrl)) {
      invalid('baseUrl', baseUrl, '-');
      baseUrl = '';
    }
    // Blank: OPENAI_BASE_URL as the OpenAI SDK reads it (an unusable value is reported, not used).
    const envBaseUrl = (process.env.OPENAI_BASE_URL ?? '').trim();
    if (baseUrl === '' && envBaseUrl !== '') {
      if (usableBaseUrl(envBaseUrl)) baseUrl = envBaseUrl;
      else invalid('OPENAI_BASE_URL', envBaseUrl, '-');
    }
    this.settings = {
      model,
      baseUrl,
      timeoutMs: read.number('timeoutMs', 8000, 100, 120000, true),
      maxRetries: read.number('maxRetries', 2, 0, 10, true),
    };

    const credential = (): string => (typeof this.credentials?.apiKey === 'string' ? this.credentials.apiKey.trim() : '');
    const fromEnv = (): string => (process.env.OPENAI_API_KEY ?? '').trim();
    this.keySource = (): ApiKeySource => (credential() !== '' ? 'credential' : fromEnv() !== '' ? 'env' : 'none');
    this.apiKey = (): string | undefined => credential() || fromEnv() || undefined;
  }

  RED.nodes.registerType<AiProviderNode, NodeConfig, unknown, AiProviderCredentials>('ai-provider', AiProvider, {
    credentials: { apiKey: { type: 'password' } },
  });
};
