import { definePtySuite } from './pty-suite';

definePtySuite('hidraw');
