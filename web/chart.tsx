/**
 * A stacked bar chart of day counters, drawn as SVG: small (no chart library), themed by CSS
 * variables (light and dark), readable by a screen reader through its table, and each day's bar
 * says its day and total (`data-day`, `data-total`) and lists its parts in a tooltip.
 */
import { formatDay } from './format.js';

export interface Series {
  key: string;
  label: string;
  /** Its colour (`s0`…`s9` in styles.css); its place in `series` by default. */
  tone?: number;
}

export interface ChartProps {
  title: string;
  series: readonly Series[];
  /** One row a day (YYYY-MM-DD, UTC), its values in the order of `series`. */
  rows: readonly { day: string; values: readonly number[] }[];
}

const W = 640;
const H = 180;
const M = { top: 8, right: 4, bottom: 22, left: 30 };

/** The smallest of 1, 2, 5 × 10^k at or above `n` (at least 1). */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((f) => f * magnitude).find((v) => v >= n) ?? 10 * magnitude;
}

export function StackedBars({ title, series, rows }: ChartProps) {
  const totals = rows.map((row) => row.values.reduce((a, b) => a + b, 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const band = plotW / Math.max(1, rows.length);
  const barW = Math.max(1, Math.min(48, band * 0.72));
  const y = (v: number) => (v / top) * plotH;
  const labelEvery = Math.max(1, Math.ceil(rows.length / 8));
  const id = `chart-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <figure class="chart" data-chart={title}>
      <figcaption id={id}>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={id}>
        <title>{`${title}: ${totals.reduce((a, b) => a + b, 0)} over ${rows.length} ${rows.length === 1 ? 'day' : 'days'}`}</title>
        {(Number.isInteger(top / 2) ? [0, top / 2, top] : [0, top]).map((tick) => (
          <g key={tick} class="tick">
            <line x1={M.left} x2={W - M.right} y1={M.top + plotH - y(tick)} y2={M.top + plotH - y(tick)} />
            <text x={M.left - 4} y={M.top + plotH - y(tick) + 4} text-anchor="end">
              {tick}
            </text>
          </g>
        ))}
        {rows.map((row, i) => {
          const x = M.left + i * band + (band - barW) / 2;
          let base = M.top + plotH;
          return (
            <g key={row.day} class="bar" data-day={row.day} data-total={totals[i]}>
              <title>{`${row.day}: ${totals[i]} (${series.map((s, k) => `${row.values[k] ?? 0} ${s.label}`).join(', ')})`}</title>
              {series.map((s, k) => {
                const h = y(row.values[k] ?? 0);
                base -= h;
                return h > 0 ? (
                  <rect key={s.key} class={`s${s.tone ?? k}`} data-series={s.key} x={x} y={base} width={barW} height={h} />
                ) : null;
              })}
              {i % labelEvery === 0 || rows.length <= 8 ? (
                <text class="day" x={x + barW / 2} y={H - 6} text-anchor="middle">
                  {formatDay(row.day)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <ul class="legend">
        {series.map((s, k) => (
          <li key={s.key}>
            <span class={`swatch s${s.tone ?? k}`} aria-hidden="true" />
            {s.label}
          </li>
        ))}
      </ul>
      <details>
        <summary>As a table</summary>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {series.map((s) => (
                  <th key={s.key} scope="col">
                    {s.label}
                  </th>
                ))}
                <th scope="col">Total</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={row.day}>
                  <th scope="row">{row.day}</th>
                  {series.map((s, k) => (
                    <td key={s.key}>{row.values[k] ?? 0}</td>
                  ))}
                  <td>{totals[i]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
