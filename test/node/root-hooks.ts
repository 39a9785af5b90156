/**
 * Root hooks of every mocha run (.mocharc.json "require"): mocha takes them
 * from here in both the serial and the parallel mode. A file's own top-level
 * hook would be registered only by the first file of each parallel worker
 * that loads it (modules are cached per worker).
 *
 * Every node test loads its own flow, often with the same node ids: state a
 * closed node hands to its next instance (nodes/shared/context-state) must
 * not leak from one test into the next.
 */
import { clearHandover } from '../../nodes/shared/context-state';

export const mochaHooks = {
  afterEach(): void {
    clearHandover();
  },
};
