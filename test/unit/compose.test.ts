// The docker-compose stack without a Docker engine: the compose file, Grafana provisioning and dashboard parse, and the dashboard queries exactly what the InfluxDB sink writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_BUCKET, DEFAULT_MEASUREMENT, INFLUX_FIELDS, INFLUX_TAGS } from '../../src/sinks/influx-schema';

// Tests run from dist/test; the files live at the repository root.
const ROOT = join(__dirname, '..', '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  network_mode?: string;
  cap_add?: string[];
  cap_drop?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const svc = compose.services;

/** A compose value that must come from .env, not be written into the file. */
const fromVariable = (value: string | undefined, name: string) => assert.match(value ?? '', new RegExp(`^\\$\\{${name}(:\\?[^}]*)?\\}$`), `${name} must come from the environment`);

describe('docker-compose.yml', () => {
  it('has InfluxDB 2.7 set up by environment with the sink bucket and the token from .env', () => {
    const influx = svc.influxdb;
    assert.match(influx.image ?? '', /^influxdb:2\.7/);
    const env = influx.environment!;
    assert.equal(env.DOCKER_INFLUXDB_INIT_MODE, 'setup');
    assert.equal(env.DOCKER_INFLUXDB_INIT_BUCKET, DEFAULT_BUCKET);
    assert.ok(env.DOCKER_INFLUXDB_INIT_ORG);
    fromVariable(env.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN, 'INFLUX_TOKEN');
    fromVariable(env.DOCKER_INFLUXDB_INIT_PASSWORD, 'INFLUX_ADMIN_PASSWORD');
    assert.ok(influx.volumes?.some((v) => v.endsWith(':/var/lib/influxdb2')), 'data on a volume');
  });

  it('has Grafana allowed to refresh every 100 ms, with the provisioning and dashboards mounted', () => {
    const g = svc.grafana;
    assert.match(g.image ?? '', /^grafana\/grafana/);
    assert.equal(g.environment!.GF_DASHBOARDS_MIN_REFRESH_INTERVAL, '100ms');
    fromVariable(g.environment!.INFLUX_TOKEN, 'INFLUX_TOKEN');
    fromVariable(g.environment!.GF_SECURITY_ADMIN_PASSWORD, 'GRAFANA_ADMIN_PASSWORD');
    assert.ok(g.volumes?.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
    assert.ok(g.volumes?.some((v) => v.startsWith('./grafana/dashboards:')));
    assert.equal(g.depends_on?.influxdb.condition, 'service_healthy');
  });

  it('has tcpcast as an optional service: profile, host network, NET_RAW + NET_ADMIN, built from the Dockerfile, token by environment', () => {
    const t = svc.tcpcast;
    assert.ok((t.profiles ?? []).length > 0, 'behind a profile');
    assert.equal(t.network_mode, 'host');
    assert.deepEqual([...(t.cap_add ?? [])].sort(), ['NET_ADMIN', 'NET_RAW']);
    assert.equal(t.ports, undefined, 'host network: nothing to publish');
    assert.equal(t.build?.context, '.');
    const dockerfile = read(t.build?.dockerfile ?? 'Dockerfile');
    assert.match(dockerfile, /^FROM node:(22|24)\.\d+\.\d+-bookworm AS build$/m, 'Node 22 or 24, pinned to a patch release');
    assert.deepEqual(t.cap_drop, ['ALL']);
    assert.match(dockerfile, /^USER node$/m, 'not root at run time');
    assert.match(dockerfile, /libpcap-dev/);
    assert.match(dockerfile, /npm ci/);
    assert.match(dockerfile, /npm run build/);
    fromVariable(t.environment!.INFLUX_TOKEN, 'INFLUX_TOKEN');
    assert.equal(t.environment!.TCPCAST_INFLUX_BUCKET, DEFAULT_BUCKET);
    assert.ok(!(t.command ?? []).some((a) => /token/i.test(a)), 'no token on the command line');
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const published = Object.values(svc).flatMap((s) => s.ports ?? []);
    assert.ok(published.length >= 2);
    for (const p of published) assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, p);
  });

  it('every variable the stack needs is in .env.example', () => {
    const example = read('.env.example');
    const needed = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]));
    for (const name of needed) assert.match(example, new RegExp(`^${name}=`, 'm'), name);
  });
});

describe('Grafana provisioning', () => {
  const ds = parseYaml(read('grafana/provisioning/datasources/influxdb.yml')) as {
    datasources: { uid: string; type: string; url: string; jsonData: Record<string, string>; secureJsonData: Record<string, string> }[];
  };
  const dashboardsProvider = parseYaml(read('grafana/provisioning/dashboards/tcpcast.yml')) as { providers: { options: { path: string } }[] };
  const dashboard = JSON.parse(read('grafana/dashboards/phase-shift.json'));

  it('has a Flux datasource on the compose InfluxDB, token from the environment', () => {
    assert.equal(ds.datasources.length, 1);
    const d = ds.datasources[0];
    assert.equal(d.type, 'influxdb');
    assert.equal(d.jsonData.version, 'Flux');
    assert.equal(d.jsonData.defaultBucket, DEFAULT_BUCKET);
    assert.equal(d.secureJsonData.token, '${INFLUX_TOKEN}');
    const host = new URL(d.url).hostname;
    assert.ok(host in svc, `datasource host ${host} is a compose service`);
  });

  it('loads dashboards from the directory compose mounts', () => {
    const mount = svc.grafana.volumes!.find((v) => v.startsWith('./grafana/dashboards:'))!;
    assert.equal(dashboardsProvider.providers[0].options.path, mount.split(':')[1]);
    assert.ok(existsSync(join(ROOT, 'grafana/dashboards/phase-shift.json')));
  });

  it('the "Phase shift" dashboard refreshes every 100 ms and every panel uses the provisioned datasource', () => {
    assert.equal(dashboard.title, 'Phase shift');
    assert.equal(dashboard.refresh, '100ms');
    assert.ok(dashboard.timepicker.refresh_intervals.includes('100ms'));
    for (const p of dashboard.panels) {
      assert.equal(p.datasource.uid, ds.datasources[0].uid, p.title);
      for (const t of p.targets) assert.equal(t.datasource.uid, ds.datasources[0].uid, p.title);
    }
  });

  it('its Flux queries name exactly the measurement, bucket, fields and tags the sink writes', () => {
    const queries: string[] = [
      ...dashboard.panels.flatMap((p: { targets: { query: string }[] }) => p.targets.map((t) => t.query)),
      ...dashboard.templating.list.map((v: { query: string }) => v.query),
    ];
    const tagNames = new Set<string>(INFLUX_TAGS);
    const queriedFields = new Set<string>();
    for (const q of queries) {
      const buckets = [...q.matchAll(/bucket:\s*"([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(buckets)], [DEFAULT_BUCKET], q);
      const measurements = [...q.matchAll(/r\._measurement\s*==\s*"([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(measurements)], [DEFAULT_MEASUREMENT], q);
      for (const m of q.matchAll(/r\._field\s*==\s*"([^"]+)"/g)) {
        assert.ok((INFLUX_FIELDS as readonly string[]).includes(m[1]), `unknown field ${m[1]}`);
        queriedFields.add(m[1]);
      }
      for (const m of q.matchAll(/\br\.([A-Za-z][A-Za-z0-9_]*)/g)) assert.ok(tagNames.has(m[1]), `unknown tag ${m[1]} in ${q}`);
      for (const m of q.matchAll(/tag:\s*"([^"]+)"/g)) assert.ok(tagNames.has(m[1]), `unknown tag ${m[1]}`);
      for (const m of q.matchAll(/columns:\s*\[([^\]]*)\]/g)) {
        for (const c of m[1].matchAll(/"([^"]+)"/g)) assert.ok(c[1].startsWith('_') || tagNames.has(c[1]), `unknown column ${c[1]}`);
      }
    }
    for (const f of ['actual_throughput', 'predicted_throughput', 'rtt_delay', 'bytes_in_flight']) assert.ok(queriedFields.has(f), `${f} is on the dashboard`);
    // A variable per tag, so the panels can be narrowed to one host / interface / series.
    assert.deepEqual(dashboard.templating.list.map((v: { name: string }) => v.name).sort(), [...INFLUX_TAGS].sort());
  });

  it('its variables are multi-select and refreshed on load only (no tag-query storm at 100 ms), and a fleet overview lists hosts x interfaces', () => {
    for (const v of dashboard.templating.list as { name: string; multi: boolean; includeAll: boolean; refresh: number }[]) {
      assert.equal(v.multi, true, v.name);
      assert.equal(v.includeAll, true, v.name);
      assert.equal(v.refresh, 1, `${v.name}: 1 = on dashboard load`);
    }
    const queries: string[] = dashboard.panels.flatMap((p: { targets: { query: string }[] }) => p.targets.map((t) => t.query));
    // A multi-value variable only works through a regex match.
    for (const q of queries) assert.doesNotMatch(q, /r\.(host|iface) == "\$/, q);
    const fleet = dashboard.panels.find((p: { title: string }) => /^Fleet overview/.test(p.title));
    assert.ok(fleet, 'a fleet overview panel');
    assert.match(fleet.targets[0].query, /group\(columns: \["host", "iface", "_field"\]\)/);
    assert.match(fleet.targets[0].query, /r\.series == "all"/, 'the link aggregate only: one row per host x interface, cheap at 100 ms');
  });

  it('shows actual vs predicted once per series', () => {
    const perSeries = dashboard.panels.find((p: { repeat?: string }) => p.repeat === 'series');
    assert.ok(perSeries, 'a panel repeated per series');
    assert.match(perSeries.targets[0].query, /actual_throughput/);
    assert.match(perSeries.targets[0].query, /predicted_throughput/);
  });
});
