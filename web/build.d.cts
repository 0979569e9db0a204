import type * as esbuild from 'esbuild';
import type { DashboardAsset } from '../lib/dashboard/serve.js';

export type { DashboardAsset };
export declare const BUDGET_GZIP_BYTES: number;
export declare function buildDashboard(build: Pick<typeof esbuild, 'build'>): Promise<DashboardAsset[]>;
export declare function assetSizes(assets: readonly DashboardAsset[]): { name: string; bytes: number; gzipBytes: number }[];
export declare function dashboardAssetsPlugin(): esbuild.Plugin;
