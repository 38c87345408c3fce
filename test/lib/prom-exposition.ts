// A strict reader of the Prometheus text exposition format (0.0.4) plus the naming rules of prometheus.io/docs/practices/naming, for tests of /metrics.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /\s*([^=\s]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`${where}: bad label syntax at "${text.slice(pos)}"`);
    if (!LABEL.test(m[1]) || m[1].startsWith('__')) throw new Error(`${where}: bad label name ${m[1]}`);
    if (m[1] in labels) throw new Error(`${where}: label ${m[1]} twice`);
    labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    pos = re.lastIndex;
  }
  return labels;
}

function parseValue(text: string, where: string): number {
  // As Prometheus reads values (Go's strconv.ParseFloat): Inf/NaN in any case; prom-client writes NaN as "Nan".
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const v = Number(text);
  if (text.trim() === '' || Number.isNaN(v)) throw new Error(`${where}: bad value "${text}"`);
  return v;
}

/** Parses the exposition; throws on anything a strict scraper would reject (syntax, order, duplicate series). */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      let fam = families.get(name);
      if (!fam) {
        fam = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, fam);
      } else if (fam !== current) throw new Error(`${where}: ${name} metadata not contiguous`);
      current = fam;
      if (kind === 'HELP') {
        if (fam.help) throw new Error(`${where}: second HELP for ${name}`);
        fam.help = rest;
      } else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`${where}: bad TYPE ${rest}`);
        if (fam.samples.length) throw new Error(`${where}: TYPE after samples of ${name}`);
        fam.type = rest as Family['type'];
      }
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${where}: bad sample line "${line}"`);
    const [, name, labelText, valueText] = m;
    const labels = parseLabels(labelText ?? '', where);
    const value = parseValue(valueText, where);
    const base = current && (name === current.name || (/^(.*)_(bucket|sum|count)$/.exec(name)?.[1] === current.name && ['histogram', 'summary'].includes(current.type)) || (current.type === 'summary' && name === current.name));
    if (!current || !base) throw new Error(`${where}: sample ${name} outside its family (${current?.name})`);
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seen.add(key);
    current.samples.push({ name, labels, value });
  });
  return families;
}

/**
 * Naming rules (prometheus.io/docs/practices/naming): counters end in _total and never decrease below zero;
 * time in _seconds, sizes in _bytes (no _ms, _milliseconds, _kb); histograms have cumulative buckets ending in
 * +Inf with _sum and _count; every family has HELP text. Returns every problem found (empty when clean).
 */
export function namingProblems(families: Map<string, Family>): string[] {
  const problems: string[] = [];
  for (const f of families.values()) {
    if (!f.help.trim()) problems.push(`${f.name}: no HELP`);
    if (f.type === 'untyped') problems.push(`${f.name}: no TYPE`);
    if (/_(ms|milliseconds|us|microseconds|kb|mb|kib|mib|percent)(_|$)/.test(f.name)) problems.push(`${f.name}: not in base units`);
    if (f.type === 'counter') {
      if (!f.name.endsWith('_total')) problems.push(`${f.name}: counter without _total`);
      for (const s of f.samples) if (!(s.value >= 0)) problems.push(`${f.name}: negative or NaN counter ${s.value}`);
    } else if (f.name.endsWith('_total')) problems.push(`${f.name}: _total on a ${f.type}`);
    if (f.type === 'histogram') {
      const groups = new Map<string, Sample[]>();
      for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
        const { le, ...rest } = s.labels;
        if (le === undefined) problems.push(`${f.name}: bucket without le`);
        const k = JSON.stringify(rest);
        groups.set(k, [...(groups.get(k) ?? []), s]);
      }
      for (const [k, buckets] of groups) {
        if (buckets[buckets.length - 1].labels.le !== '+Inf') problems.push(`${f.name}${k}: last bucket is not +Inf`);
        for (let i = 1; i < buckets.length; i++) {
          if (Number(buckets[i].labels.le) <= Number(buckets[i - 1].labels.le) && buckets[i].labels.le !== '+Inf') problems.push(`${f.name}: le not increasing`);
          if (buckets[i].value < buckets[i - 1].value) problems.push(`${f.name}: buckets not cumulative`);
        }
        const count = f.samples.find((x) => x.name === `${f.name}_count` && JSON.stringify(x.labels) === k);
        const sum = f.samples.find((x) => x.name === `${f.name}_sum` && JSON.stringify(x.labels) === k);
        if (!count || !sum) problems.push(`${f.name}${k}: missing _count or _sum`);
        else if (count.value !== buckets[buckets.length - 1].value) problems.push(`${f.name}: _count != +Inf bucket`);
      }
      if (!/_(seconds|bytes)$/.test(f.name)) problems.push(`${f.name}: histogram without a unit suffix`);
    }
  }
  return problems;
}
