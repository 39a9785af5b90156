import { definePtySuite } from './pty-suite';

definePtySuite('sci2');
