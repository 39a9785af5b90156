/**
 * Types for node-red-node-test-helper 0.3 (the package ships none): only the
 * parts the node tests use.
 */
declare module 'node-red-node-test-helper' {
  import type { Node, NodeAPI } from 'node-red';

  namespace helper {
    /** A node of a test flow as Node-RED stores it. */
    interface FlowNodeDef {
      id: string;
      type: string;
      z?: string;
      wires?: string[][];
      [key: string]: unknown;
    }

    /** Credentials by node id. */
    type TestCredentials = Record<string, Record<string, string>>;

    /** A node module's export: called once with the node API. */
    type NodeInitializer = (RED: NodeAPI) => void | Promise<void>;

    /** One call recorded by the sinon spy on Node-RED's log. */
    interface LogEvent {
      level: number;
      msg?: unknown;
      type?: string;
      id?: string;
    }

    /** The sinon spy the helper puts on Node-RED's log (`helper.log()`). */
    interface LogSpy {
      args: Array<[LogEvent]>;
      FATAL: number;
      ERROR: number;
      WARN: number;
      INFO: number;
    }

    interface NodeTestHelper {
      init(runtimePath?: string, userSettings?: Record<string, unknown>): void;
      settings(userSettings?: Record<string, unknown>): Record<string, unknown>;
      load(testNode: NodeInitializer | NodeInitializer[], testFlow: FlowNodeDef[], testCredentials?: TestCredentials): Promise<void>;
      unload(): Promise<void>;
      getNode(id: string): Node | null;
      clearFlows(): Promise<void>;
      startServer(): Promise<void>;
      stopServer(): Promise<void>;
      url(): string;
      log(): LogSpy;
    }
  }

  const helper: helper.NodeTestHelper;
  export = helper;
}
