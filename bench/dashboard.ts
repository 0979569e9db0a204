/** The dashboard's assets as the dashboard function serves them: bytes raw and gzipped, against the budget. */
import * as esbuild from 'esbuild';
import { dashboardBuild } from './build.js';

export interface DashboardResult {
  assets: { name: string; bytes: number; gzipBytes: number }[];
  totalBytes: number;
  totalGzipBytes: number;
  budgetGzipBytes: number;
  /** The build's own time (esbuild, in memory), median of 3. */
  buildMs: number;
  goals: { withinBudget: boolean };
}

export async function dashboardBench(): Promise<DashboardResult> {
  const times: number[] = [];
  let assets: Awaited<ReturnType<typeof dashboardBuild.buildDashboard>> = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    assets = await dashboardBuild.buildDashboard(esbuild);
    times.push(performance.now() - t);
  }
  const sizes = dashboardBuild.assetSizes(assets);
  const totalGzipBytes = sizes.reduce((sum, a) => sum + a.gzipBytes, 0);
  return {
    assets: sizes,
    totalBytes: sizes.reduce((sum, a) => sum + a.bytes, 0),
    totalGzipBytes,
    budgetGzipBytes: dashboardBuild.BUDGET_GZIP_BYTES,
    buildMs: Math.round(times.sort((a, b) => a - b)[1] ?? 0),
    goals: { withinBudget: totalGzipBytes <= dashboardBuild.BUDGET_GZIP_BYTES },
  };
}
