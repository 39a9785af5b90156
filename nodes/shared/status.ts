/**
 * Status and input handling shared by the node skeletons: a grey ring while
 * idle or not configured, and an honest error for input the node cannot handle
 * yet.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';

/** Grey ring status: "idle" when every required config node is there, else "not configured". */
/** Local wall-clock time hh:mm for a status text ("?" when unknown). */
export function hhmm(at: number | undefined): string {
  if (at === undefined || !Number.isFinite(at)) return '?';
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A status text cut to 120 characters (the editor shows one line). */
export function shortText(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function idleStatus(RED: NodeAPI, node: Node, configured: boolean): NodeStatus {
  const key = configured ? 'idle' : 'notConfigured';
  return { fill: 'grey', shape: 'ring', text: RED._(`${node.type}.status.${key}`) };
}

/** A user of a config node that merges the owner's status with its own (see StatusView). */
export interface OwnerStatusListener {
  ownerStatus?(status: NodeStatus): void;
}

/**
 * Sends the owner's status to every user (10-mqtt.js pattern): `ownerStatus`
 * where a user has it, else `status`. The one way every config node that owns
 * a resource (dali-bus, lighting-store) shows its state on its users.
 */
export function fanOutStatus(users: Record<string, Node>, status: NodeStatus): void {
  for (const user of Object.values(users)) showOwnerStatus(user, status);
}

/** Shows the owner's status on one user. */
export function showOwnerStatus(user: Node, status: NodeStatus): void {
  const listener = (user as Node & OwnerStatusListener).ownerStatus;
  if (typeof listener === 'function') listener.call(user, status);
  else user.status(status);
}

/**
 * A node's status from two sources: its config node (connection, queue) and
 * itself (a refused message, a stale sensor). The node's own status stays
 * until it clears it or the owner's status changes; a sticky one (a
 * condition, not an event) also survives the owner's green statuses and
 * comes back after the owner's other ones.
 */
export class StatusView {
  private ownerStatus: NodeStatus = {};
  private local: NodeStatus | null = null;
  private sticky = false;

  constructor(private readonly node: Node) {}

  /** The owner's status changed. */
  owner(status: NodeStatus): void {
    this.ownerStatus = status;
    if (this.local && this.sticky && status.fill === 'green') {
      this.node.status(this.local);
      return;
    }
    if (!this.sticky) this.local = null;
    this.node.status(status);
  }

  /** The node's own status, shown over the owner's. */
  show(status: NodeStatus, sticky = false): void {
    this.local = status;
    this.sticky = sticky;
    this.node.status(status);
  }

  /** Back to the owner's status (if the node's own was shown). */
  clear(): void {
    if (this.local === null) return;
    this.local = null;
    this.sticky = false;
    this.node.status(this.ownerStatus);
  }
}
