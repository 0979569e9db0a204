import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MISSED_REASONS } from '../../lib/ledger/outcome.js';

const css = readFileSync(new URL('../../web/styles.css', import.meta.url), 'utf8');

describe("the dashboard's chart colours", () => {
  // The by-reason chart gives reason n the class `s<n>` (web/app.tsx): one without a rule is drawn black, its legend swatch blank.
  it('has a colour for every missed-call reason, in light and dark mode', () => {
    const classes = new Set([...css.matchAll(/^\.s(\d+) \{\n {2}fill: var\(--s\1\);/gm)].map((m) => Number(m[1])));
    const declared = [...css.matchAll(/^ +--s(\d+): #[0-9a-f]{6};$/gm)].map((m) => Number(m[1]));
    for (let n = 0; n < MISSED_REASONS.length; n++) {
      expect({ n, class: classes.has(n) }).toEqual({ n, class: true });
      expect({ n, modes: declared.filter((d) => d === n).length }).toEqual({ n, modes: 2 });
    }
  });
});
