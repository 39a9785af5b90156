// Mining runs and the suggestion life cycle on the lighting store (lib/learning holds the pure mining and rules).
export * from './suggestion-store';
export * from './insights';
