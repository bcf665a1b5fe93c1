// The types of time.js for TypeScript that imports it: test/web/time.test.ts (the root tsconfig
// compiles no JavaScript) and, since a .d.ts is found before a .js, dom.js in the browser modules'
// own check (src/web/public/tsconfig.json), which checks time.js itself against its JSDoc. The
// two say the same: keep them in step. Never served (src/web/routes.ts) nor copied into dist.
export type TimeFormat = 'ago' | 'signed-in' | 'active' | 'current';
export type Instant = string | number | Date;
export declare const ACTIVE_NOW_SECONDS: number;
export declare function toMillis(at: Instant): number;
export declare function timeAgo(at: Instant, now?: number): string;
export declare function describeTime(format: TimeFormat, at: Instant, now?: number): string;
