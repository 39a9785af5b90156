import { definePtySuite } from './pty-suite';

definePtySuite('luba');
