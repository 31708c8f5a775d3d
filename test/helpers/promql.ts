/**
 * Checks PromQL expressions (a Grafana dashboard's, Prometheus alert rules')
 * against what a real /metrics serves: each expression must parse (with
 * Prometheus's own grammar, `@prometheus-io/lezer-promql`), and every metric
 * and label it names must exist, so that a renamed metric breaks a test
 * rather than a dashboard nobody looks at until an outage.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** Labels Prometheus adds to every series it scrapes (they are not in /metrics). */
export const TARGET_LABELS: readonly string[] = ['instance', 'job'];
/** Series Prometheus makes itself for each target. */
const SYNTHETIC: readonly string[] = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

/** What /metrics serves: every metric name, and the label names seen on each. */
export interface Served {
  names: Set<string>;
  labels: Map<string, Set<string>>;
}

/** Reads Prometheus text: names from `# TYPE` lines (a histogram's three series included), labels from the samples. */
export function served(text: string): Served {
  const names = new Set<string>(SYNTHETIC);
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type !== null) {
      const suffixes = type[2] === 'histogram' ? ['_bucket', '_sum', '_count'] : type[2] === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const s of suffixes) names.add(type[1] + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (sample === null) continue;
    const set = labels.get(sample[1]!) ?? new Set<string>();
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) set.add(m[1]!);
    labels.set(sample[1]!, set);
  }
  return { names, labels };
}

/** An expression's metrics (with the labels it matches on each) and grouping labels, or where it fails to parse. */
export interface Analysis {
  errorsAt: number[];
  selectors: { metric: string; labels: string[] }[];
  grouping: string[];
}

/** Parses `expr` and lists what it names. */
export function analyse(expr: string): Analysis {
  const out: Analysis = { errorsAt: [], selectors: [], grouping: [] };
  const text = (from: number, to: number): string => expr.slice(from, to);
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) out.errorsAt.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        const labels =
          node.node
            .getChild('LabelMatchers')
            ?.getChildren('UnquotedLabelMatcher')
            .map((m) => m.getChild('LabelName')!) ?? [];
        out.selectors.push({ metric: id ? text(id.from, id.to) : '', labels: labels.map((l) => text(l.from, l.to)) });
      }
      if (node.name === 'GroupingLabels') for (const l of node.node.getChildren('LabelName')) out.grouping.push(text(l.from, l.to));
    },
  });
  return out;
}

/** What is wrong with `expr` against `s`: unparsable, unknown metrics, labels a metric does not have. */
export function problems(expr: string, s: Served): string[] {
  const a = analyse(expr);
  const found: string[] = [];
  if (a.errorsAt.length > 0) found.push(`does not parse at ${a.errorsAt.map((at) => JSON.stringify(expr.slice(at, at + 20))).join(', ')}`);
  if (a.selectors.length === 0) found.push('names no metric');
  const known = new Set<string>(TARGET_LABELS);
  for (const { metric, labels } of a.selectors) {
    if (metric === '') found.push('a selector without a metric name');
    else if (!s.names.has(metric)) found.push(`unknown metric ${metric}`);
    const own = s.labels.get(metric) ?? new Set<string>();
    for (const l of own) known.add(l);
    for (const l of labels) if (!own.has(l) && !TARGET_LABELS.includes(l)) found.push(`${metric} has no label ${l}`);
  }
  for (const l of a.grouping) if (!known.has(l)) found.push(`grouping by ${l}, a label none of its metrics has`);
  return found;
}

/** The labels an alert's result keeps: the `by` labels when it aggregates, else every label of its metrics. */
export function resultLabels(expr: string, s: Served): Set<string> {
  const a = analyse(expr);
  if (/\bby\s*\(/.test(expr)) return new Set(a.grouping);
  return new Set([...TARGET_LABELS, ...a.selectors.flatMap(({ metric }) => [...(s.labels.get(metric) ?? [])])]);
}
