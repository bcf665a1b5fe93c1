// Types for test/web/time.test.ts (tsconfig does not check JavaScript); never served.
export declare const ACTIVE_NOW_SECONDS: number;
export declare function toMillis(at: string | number | Date): number;
export declare function timeAgo(at: string | number | Date, now?: number): string;
export declare function describeTime(format: 'ago' | 'signed-in' | 'active' | 'current', at: string | number | Date, now?: number): string;
