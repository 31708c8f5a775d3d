/**
 * deploy/: the files are checked for what can go wrong without an engine
 * (test/image.test.ts builds the image and starts the compose file's proxies):
 * each parses as YAML; every variable they set on a proxy
 * is a setting of src/config.ts, and the literal values together load as a
 * configuration; the probes point at the admin port's /healthz and /readyz;
 * the Service and the PodDisruptionBudget select the Deployment's pods; the
 * load balancer's upstreams are the compose file's proxies; the Deployment's
 * ACCESS_FILE is the Secret's file where it is mounted, and that file loads.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { loadConfig, SETTINGS, type Config } from '../src/config.js';
import { ROOT } from './helpers/processes.js';

const DEPLOY = join(ROOT, 'deploy');
const SETTING_NAMES = new Set(SETTINGS.map((s) => s.env));

type Doc = Record<string, unknown>;
/** Every YAML document of `file`, failing the test on a parse error. */
function documents(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS({ maxAliasCount: 100 }) as Doc);
}
const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));

/** Checks that `env` names only settings and that its values load. */
function checkEnv(
  t: { ok(v: unknown, m: string): void; not(a: unknown, b: unknown): void },
  where: string,
  env: Record<string, string>,
): Config {
  for (const name of Object.keys(env)) t.ok(SETTING_NAMES.has(name), `${where}: ${name} is a setting`);
  const config = loadConfig(env, []);
  t.not(config, 'help');
  return config as Config;
}

t.test('every file under deploy/ parses', async (t) => {
  const files = yamlFiles(DEPLOY);
  t.ok(files.length >= 4, `${files.length} YAML files`);
  for (const file of files) t.doesNotThrow(() => documents(file), file.slice(ROOT.length + 1));
});

t.test('compose: a 3-master cluster with replicas, two proxies whose settings are real, a load balancer in front', async (t) => {
  const [compose] = documents(join(DEPLOY, 'compose.yaml'));
  const services = compose!.services as Record<string, Doc>;
  const redis = Object.keys(services).filter((n) => /^redis-\d$/.test(n));
  t.equal(redis.length, 6, 'six Redis nodes');
  for (const n of redis) t.match((services[n]!.command as string[]).join(' '), /--cluster-enabled yes/, `${n} is a cluster node`);
  t.match(
    (services['cluster-init']!.command as string[]).join(' '),
    /--cluster create .* --cluster-replicas 1/,
    'joined as 3 masters with a replica each',
  );
  const proxies = Object.keys(services).filter((n) => services[n]!.build !== undefined);
  t.same(proxies, ['shardcache-1', 'shardcache-2']);
  for (const name of proxies) {
    const config = checkEnv(t, name, services[name]!.environment as Record<string, string>);
    t.equal(config.redisMode, 'cluster', `${name} reads from the cluster`);
    for (const seed of config.redisClusterNodes.split(','))
      t.ok(redis.includes(seed.split(':')[0]!), `${name}: seed ${seed} is a node of the file`);
    t.match((services[name]!.healthcheck as Doc).test, /\/readyz/, `${name}: its health check is /readyz`);
  }
  const upstreams = [...readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8').matchAll(/server (\S+):(\d+)/g)].map((m) => [m[1], Number(m[2])]);
  t.same(
    upstreams,
    proxies.map((p) => [p, 8080]),
    'the load balancer sends to both proxies, on their default PORT',
  );
});

t.test(
  'kubernetes: a Deployment with probes on /healthz and /readyz and resources, a Service and a PodDisruptionBudget over its pods',
  async (t) => {
    const docs = yamlFiles(join(DEPLOY, 'kubernetes')).flatMap(documents);
    const byKind = (kind: string): Doc => docs.find((d) => d.kind === kind)!;
    const deployment = byKind('Deployment') as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> }; spec: { containers: Doc[] } };
      };
    };
    const labels = deployment.spec.template.metadata.labels;
    t.same(deployment.spec.selector.matchLabels, labels);
    const [container] = deployment.spec.template.spec.containers as {
      env: { name: string; value?: string; valueFrom?: unknown }[];
      ports: { name: string; containerPort: number }[];
      resources: Doc;
      livenessProbe: Doc;
      readinessProbe: Doc;
    }[];
    const literal = Object.fromEntries(container!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    for (const e of container!.env) t.ok(SETTING_NAMES.has(e.name), `env ${e.name} is a setting`);
    // The access file is the Secret's, mounted where ACCESS_FILE says; here it is loaded from a copy.
    const secret = byKind('Secret') as { metadata: { name: string }; stringData: Record<string, string> };
    const { volumes } = deployment.spec.template.spec as unknown as {
      volumes: { name: string; secret: { secretName: string; items: { key: string; path: string }[] } }[];
    };
    const { volumeMounts } = container as unknown as { volumeMounts: { name: string; mountPath: string }[] };
    const volume = volumes.find((v) => v.secret.secretName === secret.metadata.name)!;
    const mount = volumeMounts.find((m) => m.name === volume.name)!;
    const item = volume.secret.items[0]!;
    t.equal(literal.ACCESS_FILE, `${mount.mountPath}/${item.path}`, 'ACCESS_FILE is where the Secret is mounted');
    const copy = join(t.testdir({}), item.path);
    writeFileSync(copy, secret.stringData[item.key]!);
    const config = checkEnv(t, 'Deployment', { ...literal, ACCESS_FILE: copy });
    t.equal(config.redisMode, 'cluster');
    t.equal(config.host, '0.0.0.0', "listens beyond the pod's loopback");
    const ports = Object.fromEntries(container!.ports.map((p) => [p.name, p.containerPort]));
    t.same(ports, { http: config.port, admin: config.adminPort }, 'the container ports are PORT and ADMIN_PORT');
    t.same(container!.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
    t.same(container!.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    t.match(
      container!.resources,
      { requests: { cpu: String, memory: String }, limits: { memory: String } },
      'resources requested, memory limited',
    );
    const service = byKind('Service') as { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } };
    t.same(service.spec.selector, labels, 'the Service selects the pods');
    for (const p of service.spec.ports) t.ok(p.targetPort in ports, `Service port → ${p.targetPort}`);
    const pdb = byKind('PodDisruptionBudget') as { spec: { selector: { matchLabels: Record<string, string> } } };
    t.same(pdb.spec.selector.matchLabels, labels, 'the budget covers the pods');
  },
);
