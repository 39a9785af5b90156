export * from './stats';
export * from './local-time';
export * from './engine';
export * from './restore';
export * from './service';
export * from './demo-clock';
