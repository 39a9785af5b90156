/**
 * Status and input handling shared by the node skeletons: a grey ring while
 * idle or not configured, and an honest error for input the node cannot handle
 * yet.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';

/** Grey ring status: "idle" when every required config node is there, else "not configured". */
export function idleStatus(RED: NodeAPI, node: Node, configured: boolean): NodeStatus {
  const key = configured ? 'idle' : 'notConfigured';
  return { fill: 'grey', shape: 'ring', text: RED._(`${node.type}.status.${key}`) };
}

/**
 * Skeleton input handler: the node's behaviour arrives in a later release, so
 * every message is answered with done(err) (Catch nodes see it) and a red
 * status, never dropped silently.
 */
export function rejectInputNotImplemented(RED: NodeAPI, node: Node): void {
  node.on('input', (_msg, _send, done) => {
    node.status({ fill: 'red', shape: 'ring', text: RED._(`${node.type}.status.notImplemented`) });
    done(new Error(RED._(`${node.type}.errors.notImplemented`)));
  });
}
