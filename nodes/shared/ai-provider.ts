/**
 * What an `ai-provider` config node offers the nodes that use it (ai-decide):
 * its settings and, on demand, the API key. The key lives only in the node's
 * Node-RED credentials (or the OPENAI_API_KEY environment variable): it is
 * never copied into a node property, a setting, a status or a message.
 */
import type { Node, NodeAPI } from 'node-red';

export interface AiProviderCredentials {
  apiKey?: string;
}

export interface AiProviderSettings {
  /** Model name, e.g. gpt-4o-mini. */
  model: string;
  /** OpenAI-compatible endpoint; blank = https://api.openai.com/v1. */
  baseUrl: string;
  /** Budget of a whole decision (retries and back-off included), ms. */
  timeoutMs: number;
  /** Retries after the first attempt while the budget lasts. */
  maxRetries: number;
}

/** Where the API key comes from; never the key itself. */
export type ApiKeySource = 'credential' | 'env' | 'none';

export interface AiProviderNode extends Node<AiProviderCredentials> {
  settings: AiProviderSettings;
  keySource(): ApiKeySource;
  /** The key (credential, else OPENAI_API_KEY), read when asked; undefined when neither is set. */
  apiKey(): string | undefined;
}

/** The ai-provider config node with this id, or null. */
export function findAiProvider(RED: NodeAPI, id: unknown): AiProviderNode | null {
  if (typeof id !== 'string' || id === '') return null;
  const node = RED.nodes.getNode(id) as (Node & Partial<AiProviderNode>) | null;
  if (node == null || node.type !== 'ai-provider' || typeof node.apiKey !== 'function' || node.settings == null) return null;
  return node as AiProviderNode;
}
