// The Benchmarks page of the documentation site: bench/RESULTS.md as it is, with a bar chart
// (inline SVG, drawn here at build time: the site loads no chart library) above each table of
// its "## Results" section.
//
// What is charted, so that new columns and workloads need no change here: under "## Results",
// every Markdown table with a header row. The bars are the column(s) whose header says
// "median" and whose cells are bold numbers (`**5.19**`, `**2.61 M**`); when no such column is
// bold, the first column whose header says "median". Several such columns (one per Node, say)
// make grouped bars with a legend. The columns left of the first charted one name the bar:
// with two or more, the first groups the bars (the runtime) and the others label each bar (the
// peer). The unit is the header before ": median"; a unit per second (`items/s`) is one where
// longer bars are better, any other (µs, bytes, ms) one where shorter bars are.
//
// A value far above the others (more than 8 times the median value of the chart: Effection's
// 160 µs beside asyncio-ts's 5) would flatten every other bar: the axis stops short of it, and
// its bar is drawn broken at the end, with its number written beside it.

/** A Markdown table: its header cells and its rows of cells, with the lines it spans. */
export function parseTables(lines) {
  const tables = [];
  const cells = (line) => {
    const inner = line.trim().replace(/^\|/, "").replace(/\|$/, "");
    return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
  };
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!/^\s*\|/.test(lines[i]) || !/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(lines[i + 1])) continue;
    const header = cells(lines[i]);
    let end = i + 2;
    const rows = [];
    while (end < lines.length && /^\s*\|/.test(lines[end])) rows.push(cells(lines[end++]));
    tables.push({ start: i, end, header, rows });
    i = end - 1;
  }
  return tables;
}

const MULTIPLIER = { k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** The number a cell shows (`**2.61 M**` is 2.61e6, `24,531` is 24531), or null (`—`, text). */
export function cellNumber(cell) {
  const text = cell.replace(/\*\*/g, "").replace(/`/g, "").trim();
  const match = /^(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)\s*([kKMG])?(?![\w.])/.exec(text);
  if (match === null) return null;
  return Number(match[1].replace(/,/g, "")) * (match[2] === undefined ? 1 : MULTIPLIER[match[2]]);
}

/** The median of a cell that also gives the spread (`**5.19** (4.98 – 6.21)` → `**5.19**`). */
const medianPart = (cell) => /^\s*(\*\*[^*]+\*\*)/.exec(cell)?.[1] ?? cell;

/** A cell that opens with a bold number: `**5.19**`, or `**5.19** (4.98 – 6.21)` (median and spread in one cell). */
const isBoldNumber = (cell) => /^\*\*[^*]+\*\*/.test(cell.trim()) && cellNumber(cell) !== null;

/** Which columns of `table` are charted, and what names the bars; null when none is a median. */
export function chartSpec(table) {
  const medians = table.header.map((h, i) => (/median/i.test(h) ? i : -1)).filter((i) => i >= 0);
  if (medians.length === 0) return null;
  const bold = medians.filter((i) => table.rows.some((r) => isBoldNumber(r[i] ?? "")));
  const series = bold.length > 0 ? bold : medians.slice(0, 1);
  const labels = [...Array(series[0]).keys()];
  if (labels.length === 0) return null;
  // "µs per task: median"; with several series, what their headers share at the end is the
  // unit and the rest names each ("Node 22: items/s: median" and "Node 24: …": items/s).
  const names = series.map((i) => table.header[i].replace(/[:,]?\s*median\b.*$/i, "").trim());
  const words = names.map((n) => n.split(" "));
  let shared = 0;
  if (names.length > 1) {
    while (shared < Math.min(...words.map((w) => w.length)) - 1 && new Set(words.map((w) => w[w.length - 1 - shared])).size === 1) shared++;
  }
  const unit = (names.length === 1 ? names[0] : shared > 0 ? (words[0] ?? []).slice(-shared).join(" ") : "") || "median";
  return {
    series: series.map((column, i) => ({
      column,
      name: names.length > 1 && shared > 0 ? (words[i] ?? []).slice(0, -shared).join(" ").replace(/:$/, "") : names[i],
    })),
    group: labels.length >= 2 ? labels[0] : null,
    label: labels.length >= 2 ? labels.slice(1) : labels,
    unit,
    higherIsBetter: /\/\s*s\b|per second/i.test(unit),
  };
}

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const plain = (s) => s.replace(/\*\*/g, "").replace(/`/g, "").trim();

/** Round tick steps (1, 2, 2.5, 5 × 10^n) for an axis from 0 to `max`. */
function ticks(max) {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function formatTick(v) {
  if (v === 0) return "0";
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))} M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))} k`;
  return String(Number(v.toPrecision(3)));
}

const COLORS = { ours: "#2563eb", floor: "#9ca3af", other: "#14b8a6" };
const SERIES_COLORS = ["#2563eb", "#f59e0b", "#14b8a6", "#a855f7", "#ef4444"];

/** The SVG bar chart of one table, titled `title`, or null when it has nothing to chart; `id` must be unique on the page. */
export function chartSvg(table, title, id = "chart") {
  const spec = chartSpec(table);
  if (spec === null) return null;
  const rows = table.rows.map((r) => ({
    group: spec.group === null ? null : plain(r[spec.group] ?? ""),
    label: spec.label.map((i) => plain(r[i] ?? "")).filter((s) => s !== "").join(" · "),
    values: spec.series.map((s) => ({ n: cellNumber(r[s.column] ?? ""), text: plain(medianPart(r[s.column] ?? "")) })),
  }));
  const numbers = rows.flatMap((r) => r.values.map((v) => v.n)).filter((n) => n !== null && n > 0);
  if (numbers.length === 0) return null;
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = sorted[Math.floor(sorted.length / 2)];
  const inRange = sorted.filter((n) => n <= 8 * middle);
  const axisMax = Math.max(...inRange) * 1.05;

  const multi = spec.series.length > 1;
  const width = 640;
  const labelWidth = Math.min(230, Math.max(100, 12 + 6.2 * Math.max(...rows.map((r) => r.label.length))));
  const plotX = labelWidth + 8;
  const plotWidth = width - plotX - 100;
  const barHeight = 14;
  const rowGap = 6;
  const groupHeight = 22;
  const legendHeight = multi ? 22 : 0;
  const scale = (n) => (Math.min(n, axisMax) / axisMax) * plotWidth;

  const parts = [];
  let y = 8 + legendHeight;
  if (multi) {
    let x = plotX;
    spec.series.forEach((s, i) => {
      parts.push(`<rect x="${x}" y="8" width="12" height="12" fill="${SERIES_COLORS[i % SERIES_COLORS.length]}"/>`);
      parts.push(`<text x="${x + 16}" y="18" font-size="12" fill="currentColor">${escape(s.name)}</text>`);
      x += 24 + 7 * s.name.length;
    });
  }
  const top = y;
  let group = null;
  for (const row of rows) {
    if (row.group !== null && row.group !== group) {
      group = row.group;
      parts.push(`<text x="0" y="${y + 15}" font-size="12" font-weight="bold" fill="currentColor">${escape(group)}</text>`);
      y += groupHeight;
    }
    const ours = /asyncio-ts/.test(row.label);
    const floor = /floor/.test(row.label);
    const rowHeight = barHeight * row.values.length;
    parts.push(
      `<text x="${labelWidth}" y="${y + rowHeight / 2 + 4}" font-size="12" text-anchor="end" fill="currentColor"${ours ? ' font-weight="bold"' : ""}>${escape(row.label)}</text>`,
    );
    row.values.forEach((v, i) => {
      const barY = y + i * barHeight;
      if (v.n === null) {
        parts.push(`<text x="${plotX + 4}" y="${barY + 11}" font-size="11" fill="currentColor" opacity="0.6">${escape(v.text || "—")}</text>`);
        return;
      }
      const color = multi ? SERIES_COLORS[i % SERIES_COLORS.length] : ours ? COLORS.ours : floor ? COLORS.floor : COLORS.other;
      const w = Math.max(1, scale(v.n));
      const name = `${row.group === null ? "" : `${row.group}, `}${row.label}${multi ? ` (${spec.series[i].name})` : ""}: ${v.text} ${spec.unit}`;
      parts.push(
        `<rect class="bar" x="${plotX}" y="${barY + 1}" width="${w.toFixed(1)}" height="${barHeight - 3}" fill="${color}"><title>${escape(name)}</title></rect>`,
      );
      const broken = v.n > axisMax;
      if (broken) {
        const bx = plotX + w - 14;
        parts.push(`<path d="M${bx} ${barY + 13} l5 -13 M${bx + 5} ${barY + 13} l5 -13" stroke="white" stroke-width="2.5"/>`);
      }
      parts.push(
        `<text x="${plotX + w + 4}" y="${barY + 11}" font-size="11" fill="currentColor">${escape(v.text)}${broken ? " (off scale)" : ""}</text>`,
      );
    });
    y += rowHeight + rowGap;
  }
  const bottom = y;
  const axis = [];
  for (const t of ticks(axisMax)) {
    const x = plotX + scale(t);
    axis.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="currentColor" stroke-opacity="${t === 0 ? 0.6 : 0.12}"/>`);
    axis.push(`<text x="${x}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="currentColor" opacity="0.75">${formatTick(t)}</text>`);
  }
  const caption = `${spec.unit}, median${multi ? "s" : ""} — ${spec.higherIsBetter ? "longer is better" : "shorter is better"}`;
  axis.push(`<text x="${plotX + plotWidth / 2}" y="${bottom + 32}" font-size="12" text-anchor="middle" fill="currentColor">${escape(caption)}</text>`);
  const height = bottom + 40;
  return [
    `<svg class="bench-chart" role="img" aria-labelledby="${id}" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px" font-family="system-ui, sans-serif" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="${id}">${escape(title)}: ${escape(caption)}</title>`,
    ...axis,
    ...parts,
    "</svg>",
  ].join("\n");
}

/**
 * RESULTS.md with a chart above each table of "## Results" (the text and the tables unchanged,
 * so every heading, and so every anchor, is the same as in the repository).
 */
export function benchPage(markdown) {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^## Results\s*$/.test(l));
  if (start < 0) throw new Error('bench/RESULTS.md has no "## Results" section');
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const inserts = new Map();
  let charted = 0;
  for (const table of parseTables(lines.slice(start, end))) {
    const at = start + table.start;
    let heading = "Results";
    for (let i = at; i > start; i--) {
      const h = /^#{3,6}\s+(.*)$/.exec(lines[i]);
      if (h !== null) {
        heading = h[1].trim();
        break;
      }
    }
    const svg = chartSvg(table, heading, `bench-chart-${charted + 1}`);
    if (svg === null) continue;
    inserts.set(at, `<figure class="bench-chart">\n${svg}\n</figure>\n`);
    charted++;
  }
  if (charted === 0) throw new Error('bench/RESULTS.md: no table under "## Results" has a median column to chart');
  const out = [];
  lines.forEach((line, i) => {
    if (inserts.has(i)) out.push(inserts.get(i));
    out.push(line);
  });
  return out.join("\n");
}
