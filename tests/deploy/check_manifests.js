// SPDX-License-Identifier: Apache-2.0
// Checks the rendered deploy/ overlays: every object against the Kubernetes
// (and cert-manager, prometheus-operator) OpenAPI schemas from the
// kubernetes-models packages, unknown fields included, then the promises the
// manifests make: they point at what the server serves (Service, port,
// paths), the RBAC is exactly list+watch on osimagestreams, the webhooks'
// matchConditions (evaluated with a CEL implementation) let through exactly
// the requests they should and never fail to evaluate, the pod meets
// the "restricted" Pod Security level and OpenShift's restricted-v2 SCC, an
// outage cannot wedge the cluster, and the Deployment's flags are flags of
// `osstream-webhook serve`.
//
// Usage: node check_manifests.js --bin OSW_BIN NAME=RENDERED.yaml...
//        node check_manifests.js --self-test NAME=RENDERED.yaml...
//        node check_manifests.js --facts RENDERED.yaml  (for test_manifests_serve.sh)
// NAME is base, openshift or cert-manager. Exit 0 when everything holds,
// 1 with one line per problem otherwise.
'use strict';

const fs = require('fs');
const childProcess = require('child_process');
const YAML = require('yaml');

// ---- what the server serves (CONTRACT.md, "HTTP surface", "serve" flags) ----
const NAMESPACE = 'osstream-webhook';
const SERVICE = 'osstream-webhook';
const CONTAINER_PORT = 8443;
const PATHS = { validate: '/validate', mutate: '/mutate', healthz: '/healthz', readyz: '/readyz', metrics: '/metrics' };
const TLS_SECRET = 'osstream-webhook-tls';
const MCP_GROUP = 'machineconfiguration.openshift.io';
const STREAM_ANNOTATIONS = ['stream', 'os-image', 'os-extensions-image'].map(
  (k) => 'osimagestream.machineconfiguration.openshift.io/' + k);
// Pod Security "restricted": the only volume types it allows.
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral',
  'persistentVolumeClaim', 'projected', 'secret'];

// ---- schema validation ----------------------------------------------------

// Maps "apiVersion/kind" to the model class of every package we ship.
function loadRegistry() {
  const reg = new Map();
  const seen = new Set();
  const walk = (mod, depth) => {
    if (!mod || depth > 4 || seen.has(mod)) return;
    seen.add(mod);
    for (const key of Object.keys(mod)) {
      const v = mod[key];
      if (typeof v === 'function' && typeof v.apiVersion === 'string' && typeof v.kind === 'string') {
        reg.set(`${v.apiVersion}/${v.kind}`, v);
      } else if (v && typeof v === 'object') {
        walk(v, depth + 1);
      }
    }
  };
  walk(require('kubernetes-models'), 0);
  walk(require('@kubernetes-models/cert-manager'), 0);
  walk(require('@kubernetes-models/prometheus-operator'), 0);
  return reg;
}

// Runs the model's compiled schema validator over a proxy of `obj` that
// records which properties the validator reads. The Kubernetes OpenAPI
// schemas do not forbid extra properties, but the API server rejects or
// prunes unknown fields, so a property of a typed object that the validator
// never looked at is a typo (`readinesProbe`) and is reported. Objects the
// validator never inspects (free-form maps) are not judged.
function schemaErrors(reg, obj) {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const Model = reg.get(id);
  if (!Model) return [`no schema for ${id} (not a kind these manifests should contain)`];
  const reads = new Map();
  const proxies = new WeakMap();
  const wrap = (v) => {
    if (v === null || typeof v !== 'object') return v;
    if (proxies.has(v)) return proxies.get(v);
    const p = new Proxy(v, {
      get(target, key, receiver) {
        if (typeof key === 'string' && !Array.isArray(target)) {
          if (!reads.has(target)) reads.set(target, new Set());
          reads.get(target).add(key);
        }
        return wrap(Reflect.get(target, key, receiver));
      },
    });
    proxies.set(v, p);
    return p;
  };
  const errs = [];
  try {
    Model.prototype.validate.call(wrap(obj));
  } catch (e) {
    errs.push(`schema: ${e.message}`);
  }
  const walk = (v, path) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const r = reads.get(v);
    for (const k of Object.keys(v)) {
      if (r && !r.has(k)) errs.push(`schema: unknown field ${path}.${k}`);
      walk(v[k], `${path}.${k}`);
    }
  };
  walk(obj, '');
  return errs;
}

// ---- helpers --------------------------------------------------------------

function parseDocs(text) {
  return YAML.parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`YAML: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter((o) => o !== null && o !== undefined);
}

const objName = (o) => `${o.kind}/${(o.metadata && o.metadata.name) || '?'}`;
const find = (objs, kind, name) => objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
const annotations = (o) => (o.metadata && o.metadata.annotations) || {};

// Go duration ("5s", "500ms", "1m30s") to seconds; NaN when malformed.
function durationSeconds(s) {
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, 'µs': 1e-6, ns: 1e-9 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return NaN;
    total += parseFloat(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  return s.length ? total : NaN;
}

function labelsMatch(selector, labels) {
  const ml = (selector && selector.matchLabels) || {};
  return Object.keys(ml).length > 0 && Object.entries(ml).every(([k, v]) => labels && labels[k] === v);
}

function hasWildcard(v) {
  if (typeof v === 'string') return v.includes('*');
  if (Array.isArray(v)) return v.some(hasWildcard);
  if (v && typeof v === 'object') return Object.values(v).some(hasWildcard);
  return false;
}

// ---- checks ---------------------------------------------------------------

function checkRbac(objs, errs) {
  const roles = find(objs, 'ClusterRole');
  if (roles.length !== 1) errs.push(`expected exactly 1 ClusterRole, found ${roles.length}`);
  if (find(objs, 'Role').length) errs.push('unexpected namespaced Role: the webhook needs none');
  for (const r of [...roles, ...find(objs, 'Role')]) {
    if (hasWildcard(r.rules)) errs.push(`${objName(r)}: wildcard in rules`);
    if (r.aggregationRule) errs.push(`${objName(r)}: aggregationRule grants what it aggregates`);
    // get+list+watch on the OSImageStream singleton; list+watch, cluster-wide,
    // on pools and MachineConfigs (the cross-object rules). Nothing else.
    const rules = r.rules || [];
    const norm = (x) => JSON.stringify({ apiGroups: x.apiGroups, resources: [...(x.resources || [])].sort(),
      verbs: [...(x.verbs || [])].sort() });
    const want = [
      { apiGroups: [MCP_GROUP], resources: ['osimagestreams'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [MCP_GROUP], resources: ['machineconfigpools', 'machineconfigs'], verbs: ['list', 'watch'] },
    ].map(norm);
    const got = rules.map(norm);
    if (rules.length !== want.length || want.some((w, i) => got[i] !== w)) {
      errs.push(`${objName(r)}: rules must be exactly get+list+watch on ${MCP_GROUP} osimagestreams and ` +
        `list+watch on machineconfigpools, machineconfigs, got ${JSON.stringify(rules)}`);
    }
    for (const x of rules) {
      if (x.nonResourceURLs) errs.push(`${objName(r)}: nonResourceURLs granted`);
      const isOsis = (x.resources || []).includes('osimagestreams');
      if (isOsis && JSON.stringify(x.resourceNames) !== '["cluster"]') {
        errs.push(`${objName(r)}: osimagestreams resourceNames must be ["cluster"] (the default --osimagestream-name)`);
      }
      if (!isOsis && x.resourceNames) {
        errs.push(`${objName(r)}: resourceNames on ${x.resources}: they are listed cluster-wide`);
      }
    }
  }
  const sa = find(objs, 'ServiceAccount', SERVICE).filter((o) => o.metadata.namespace === NAMESPACE);
  if (sa.length !== 1) errs.push(`ServiceAccount ${NAMESPACE}/${SERVICE} missing`);
  const bindings = find(objs, 'ClusterRoleBinding');
  const bound = bindings.some((b) =>
    roles.some((r) => b.roleRef.kind === 'ClusterRole' && b.roleRef.name === r.metadata.name) &&
    (b.subjects || []).some((s) => s.kind === 'ServiceAccount' && s.name === SERVICE && s.namespace === NAMESPACE));
  if (!bound) errs.push(`no ClusterRoleBinding binds the ClusterRole to ServiceAccount ${NAMESPACE}/${SERVICE}`);
}

// Pod Security Standards "restricted" (Kubernetes v1.32) plus what OpenShift's
// restricted-v2 SCC adds: no fixed UID/GID/fsGroup (assigned from the
// namespace's range), and the project's own read-only root filesystem.
function checkRestricted(dep, errs) {
  const where = objName(dep);
  const spec = dep.spec.template.spec;
  const psc = spec.securityContext || {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[f] === true) errs.push(`${where}: ${f} is set`);
  }
  for (const f of ['runAsUser', 'runAsGroup', 'fsGroup', 'supplementalGroups', 'seLinuxOptions']) {
    if (psc[f] !== undefined) errs.push(`${where}: pod securityContext.${f} is fixed (restricted-v2 assigns it)`);
  }
  if (psc.sysctls && psc.sysctls.length) errs.push(`${where}: sysctls set`);
  for (const v of spec.volumes || []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    if (!types.every((t) => RESTRICTED_VOLUMES.includes(t))) errs.push(`${where}: volume ${v.name} of type ${types} not allowed by restricted`);
  }
  const all = [...(spec.initContainers || []), ...(spec.containers || []), ...(spec.ephemeralContainers || [])];
  for (const c of all) {
    const sc = c.securityContext || {};
    const cw = `${where} container ${c.name}`;
    if (sc.privileged) errs.push(`${cw}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) errs.push(`${cw}: allowPrivilegeEscalation must be false`);
    const runAsNonRoot = sc.runAsNonRoot !== undefined ? sc.runAsNonRoot : psc.runAsNonRoot;
    if (runAsNonRoot !== true) errs.push(`${cw}: runAsNonRoot must be true`);
    for (const f of ['runAsUser', 'runAsGroup', 'seLinuxOptions']) {
      if (sc[f] !== undefined) errs.push(`${cw}: securityContext.${f} is fixed (restricted-v2 assigns it)`);
    }
    const seccomp = (sc.seccompProfile || psc.seccompProfile || {}).type;
    if (seccomp !== 'RuntimeDefault') errs.push(`${cw}: seccompProfile must be RuntimeDefault, got ${seccomp}`);
    const caps = sc.capabilities || {};
    if (!(caps.drop || []).includes('ALL')) errs.push(`${cw}: capabilities must drop ALL`);
    if ((caps.add || []).length) errs.push(`${cw}: capabilities added: ${caps.add}`);
    if (sc.readOnlyRootFilesystem !== true) errs.push(`${cw}: readOnlyRootFilesystem must be true`);
    if (sc.procMount && sc.procMount !== 'Default') errs.push(`${cw}: procMount ${sc.procMount}`);
    for (const p of c.ports || []) if (p.hostPort) errs.push(`${cw}: hostPort ${p.hostPort}`);
  }
}

function flagNamesFromHelp(help) {
  return new Set([...help.matchAll(/--([a-z0-9][a-z0-9-]*)/g)].map((m) => m[1]));
}

// The Deployment; returns {container, args} for later checks.
function checkDeployment(objs, overlay, errs, serveHelp) {
  const deps = find(objs, 'Deployment');
  if (deps.length !== 1) {
    errs.push(`expected exactly 1 Deployment, found ${deps.length}`);
    return null;
  }
  const dep = deps[0];
  const where = objName(dep);
  const spec = dep.spec;
  const pod = spec.template.spec;
  if (dep.metadata.namespace !== NAMESPACE) errs.push(`${where}: namespace ${dep.metadata.namespace}`);
  if (spec.replicas !== 2) errs.push(`${where}: replicas must be 2, got ${spec.replicas}`);
  const ru = (spec.strategy || {}).rollingUpdate || {};
  if ((spec.strategy || {}).type !== 'RollingUpdate' || ru.maxUnavailable !== 0) {
    errs.push(`${where}: strategy must be RollingUpdate with maxUnavailable: 0`);
  }
  if (!labelsMatch(spec.selector, spec.template.metadata.labels)) errs.push(`${where}: selector does not match the pod labels`);
  const spread = (pod.topologySpreadConstraints || []).some((t) =>
    t.topologyKey === 'kubernetes.io/hostname' && t.whenUnsatisfiable === 'DoNotSchedule' &&
    labelsMatch(t.labelSelector, spec.template.metadata.labels));
  const anti = ((pod.affinity || {}).podAntiAffinity || {});
  const antiHost = [...(anti.requiredDuringSchedulingIgnoredDuringExecution || []),
    ...(anti.preferredDuringSchedulingIgnoredDuringExecution || []).map((p) => p.podAffinityTerm)]
    .some((t) => t.topologyKey === 'kubernetes.io/hostname' && labelsMatch(t.labelSelector, spec.template.metadata.labels));
  if (!spread && !antiHost) errs.push(`${where}: replicas are not spread over nodes (topology spread or anti-affinity on kubernetes.io/hostname)`);
  if (pod.priorityClassName !== 'system-cluster-critical') errs.push(`${where}: priorityClassName must be system-cluster-critical`);
  if (pod.serviceAccountName !== SERVICE) errs.push(`${where}: serviceAccountName must be ${SERVICE}`);
  if (pod.automountServiceAccountToken === false) errs.push(`${where}: the API source needs the service account token`);
  checkRestricted(dep, errs);

  if (pod.containers.length !== 1) errs.push(`${where}: expected one container`);
  const c = pod.containers[0];
  const cw = `${where} container ${c.name}`;
  if (c.command) errs.push(`${cw}: command overrides the image ENTRYPOINT (osstream-webhook serve)`);
  const args = c.args || [];
  const flags = new Map();
  for (const a of args) {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(a);
    if (!m) {
      errs.push(`${cw}: argument ${JSON.stringify(a)} is not --name=value`);
      continue;
    }
    if (flags.has(m[1])) errs.push(`${cw}: flag --${m[1]} given twice`);
    flags.set(m[1], m[2]);
  }
  if (serveHelp !== null) {
    const known = flagNamesFromHelp(serveHelp);
    for (const name of flags.keys()) {
      if (!known.has(name)) errs.push(`${cw}: --${name} is not a flag of 'osstream-webhook serve' (serve --help)`);
    }
  }
  if (flags.has('osimagestream-file')) errs.push(`${cw}: --osimagestream-file set: in the cluster the OSImageStream comes from the API`);
  if (flags.has('kubeconfig')) errs.push(`${cw}: --kubeconfig set: in the cluster the in-cluster configuration is used`);
  const listen = flags.get('listen') || '';
  const lm = /:(\d+)$/.exec(listen);
  if (!lm || Number(lm[1]) !== CONTAINER_PORT) errs.push(`${cw}: --listen must end in :${CONTAINER_PORT}, got ${listen}`);
  const port = (c.ports || []).find((p) => p.name === 'https');
  if (!port || port.containerPort !== CONTAINER_PORT) errs.push(`${cw}: needs containerPort ${CONTAINER_PORT} named https`);

  // Probes: HTTPS GET on the routes the server serves, on the https port.
  for (const [probe, path] of [['livenessProbe', PATHS.healthz], ['readinessProbe', PATHS.readyz]]) {
    const g = (c[probe] || {}).httpGet || {};
    if (g.path !== path || g.scheme !== 'HTTPS' || (g.port !== 'https' && g.port !== CONTAINER_PORT)) {
      errs.push(`${cw}: ${probe} must be HTTPS GET ${path} on port https, got ${JSON.stringify(g)}`);
    }
  }
  // Resources: requests and limits for cpu and memory; requests <= limits.
  const res = c.resources || {};
  for (const kind of ['requests', 'limits']) {
    for (const r of ['cpu', 'memory']) if (!(res[kind] || {})[r]) errs.push(`${cw}: resources.${kind}.${r} missing`);
  }
  // Shutdown: the grace period outlasts the delay plus the 5 s drain.
  const delay = flags.has('shutdown-delay') ? durationSeconds(flags.get('shutdown-delay')) : NaN;
  if (!(delay >= 1 && delay <= 30)) errs.push(`${cw}: --shutdown-delay must be a few seconds, got ${flags.get('shutdown-delay')}`);
  const grace = pod.terminationGracePeriodSeconds;
  if (!(typeof grace === 'number' && grace > delay + 5)) {
    errs.push(`${where}: terminationGracePeriodSeconds (${grace}) must exceed --shutdown-delay + 5 s (${delay + 5})`);
  }
  // Certificate: the Secret mounted read-only, the flags pointing into it.
  const vol = (pod.volumes || []).find((v) => v.secret && v.secret.secretName === TLS_SECRET);
  const mount = vol && (c.volumeMounts || []).find((m) => m.name === vol.name);
  if (!vol || !mount) {
    errs.push(`${cw}: Secret ${TLS_SECRET} is not mounted`);
  } else {
    if (mount.readOnly !== true) errs.push(`${cw}: the certificate Secret must be mounted readOnly`);
    const dir = mount.mountPath.replace(/\/$/, '');
    if (flags.get('tls-cert-file') !== `${dir}/tls.crt`) errs.push(`${cw}: --tls-cert-file must be ${dir}/tls.crt`);
    if (flags.get('tls-private-key-file') !== `${dir}/tls.key`) errs.push(`${cw}: --tls-private-key-file must be ${dir}/tls.key`);
  }
  return { dep, container: c, args };
}

function checkService(objs, dep, errs) {
  const svcs = find(objs, 'Service', SERVICE).filter((s) => s.metadata.namespace === NAMESPACE);
  if (svcs.length !== 1) {
    errs.push(`Service ${NAMESPACE}/${SERVICE} missing`);
    return null;
  }
  const svc = svcs[0];
  const p = (svc.spec.ports || []).find((x) => x.port === 443);
  if (!p || (p.targetPort !== 'https' && p.targetPort !== CONTAINER_PORT)) {
    errs.push(`${objName(svc)}: needs port 443 -> targetPort https (${CONTAINER_PORT})`);
  }
  if (dep && !Object.entries(svc.spec.selector || {}).every(([k, v]) => dep.spec.template.metadata.labels[k] === v)) {
    errs.push(`${objName(svc)}: selector does not select the Deployment's pods`);
  }
  if (!Object.keys(svc.spec.selector || {}).length) errs.push(`${objName(svc)}: empty selector`);
  return svc;
}

function checkPdb(objs, dep, errs) {
  const pdbs = find(objs, 'PodDisruptionBudget');
  if (pdbs.length !== 1) {
    errs.push(`expected exactly 1 PodDisruptionBudget, found ${pdbs.length}`);
    return;
  }
  const pdb = pdbs[0];
  if (pdb.spec.minAvailable !== 1) errs.push(`${objName(pdb)}: minAvailable must be 1`);
  if (dep && !labelsMatch(pdb.spec.selector, dep.spec.template.metadata.labels)) errs.push(`${objName(pdb)}: selector does not match the pods`);
}

function checkWebhooks(objs, svc, errs) {
  const want = {
    ValidatingWebhookConfiguration: { path: PATHS.validate, failurePolicy: 'Fail' },
    MutatingWebhookConfiguration: { path: PATHS.mutate, failurePolicy: 'Ignore', reinvocationPolicy: 'IfNeeded' },
  };
  const out = {};
  for (const [kind, w] of Object.entries(want)) {
    const cfgs = find(objs, kind);
    if (cfgs.length !== 1 || (cfgs[0].webhooks || []).length !== 1) {
      errs.push(`expected exactly 1 ${kind} with 1 webhook`);
      continue;
    }
    const cfg = cfgs[0];
    const hook = cfg.webhooks[0];
    const where = `${objName(cfg)} webhook ${hook.name}`;
    out[kind] = cfg;
    const s = (hook.clientConfig || {}).service || {};
    if (hook.clientConfig.url) errs.push(`${where}: clientConfig.url set; use the Service`);
    if (s.name !== SERVICE || s.namespace !== NAMESPACE) errs.push(`${where}: service must be ${NAMESPACE}/${SERVICE}`);
    if (s.path !== w.path) errs.push(`${where}: path must be ${w.path}, got ${s.path}`);
    const port = s.port === undefined ? 443 : s.port;
    if (svc && !(svc.spec.ports || []).some((p) => p.port === port)) errs.push(`${where}: port ${port} is not a port of the Service`);
    if (hook.failurePolicy !== w.failurePolicy) errs.push(`${where}: failurePolicy must be ${w.failurePolicy}`);
    if (w.reinvocationPolicy && hook.reinvocationPolicy !== w.reinvocationPolicy) errs.push(`${where}: reinvocationPolicy must be ${w.reinvocationPolicy}`);
    if (hook.sideEffects !== 'None') errs.push(`${where}: sideEffects must be None`);
    if (JSON.stringify(hook.admissionReviewVersions) !== '["v1","v1beta1"]') errs.push(`${where}: admissionReviewVersions must be ["v1","v1beta1"]`);
    if (hook.matchPolicy !== 'Equivalent') errs.push(`${where}: matchPolicy must be Equivalent`);
    if (!(Number.isInteger(hook.timeoutSeconds) && hook.timeoutSeconds >= 1 && hook.timeoutSeconds <= 10)) {
      errs.push(`${where}: timeoutSeconds must be short (1-10), got ${hook.timeoutSeconds}`);
    }
    const rules = hook.rules || [];
    const rule = JSON.stringify({ apiGroups: [MCP_GROUP], apiVersions: ['v1'], resources: ['machineconfigpools'], operations: ['CREATE', 'UPDATE'] });
    if (rules.length !== 1 || JSON.stringify({ apiGroups: rules[0].apiGroups, apiVersions: rules[0].apiVersions,
      resources: rules[0].resources, operations: rules[0].operations }) !== rule) {
      errs.push(`${where}: rules must be exactly machineconfigpools CREATE, UPDATE in ${MCP_GROUP}/v1`);
    }
    if (hasWildcard(rules)) errs.push(`${where}: wildcard in rules`);
    if (hook.namespaceSelector && Object.keys(hook.namespaceSelector).length) errs.push(`${where}: namespaceSelector is meaningless for a cluster-scoped resource`);
    if (!(hook.matchConditions || []).length) errs.push(`${where}: matchConditions missing (they keep the cluster editable when the webhook is down)`);
  }
  return out;
}

// The matchConditions, evaluated with a CEL implementation (@bufbuild/cel)
// over the requests that matter: which ones reach each webhook, and that no
// condition ever fails to evaluate (an error would fall back to
// failurePolicy, and for the validating webhook that is Fail).
const POOL_ANN = { [STREAM_ANNOTATIONS[0]]: 'rhel-9', [STREAM_ANNOTATIONS[1]]: 'quay.io/x/y@sha256:0' };
const pool = (spec, annotations) => ({
  apiVersion: `${MCP_GROUP}/v1`, kind: 'MachineConfigPool',
  metadata: { name: 'worker', ...(annotations ? { annotations } : {}) }, ...(spec ? { spec } : {}),
});
const P_NONE = pool({ paused: false });
const P_9 = pool({ osImageStream: { name: 'rhel-9' } }, POOL_ANN);
const P_10 = pool({ osImageStream: { name: 'rhel-10' } });
const P_ANN = pool({ paused: true }, POOL_ANN);
const P_OTHER = pool({}, { 'example.com/x': 'y' });
const P_NOSPEC = pool(null);
// [what, operation, object, oldObject, reaches validating?, reaches mutating?]
const CEL_CASES = [
  ['create naming a stream', 'CREATE', P_10, null, true, true],
  ['create on the default stream', 'CREATE', P_NONE, null, false, false],
  ['create without spec', 'CREATE', P_NOSPEC, null, false, false],
  ['update on the default stream (MCO, pause, labels)', 'UPDATE', P_NONE, P_NONE, false, false],
  ['update keeping the stream', 'UPDATE', { ...P_9, metadata: { ...P_9.metadata, labels: { a: 'b' } } }, P_9, false, true],
  ['update changing the stream', 'UPDATE', P_10, P_9, true, true],
  ['update adding a stream', 'UPDATE', P_10, P_NONE, true, true],
  ['update adding a stream to a pool without spec', 'UPDATE', P_10, P_NOSPEC, true, true],
  ['update removing the stream, annotations left', 'UPDATE', P_ANN, P_9, false, true],
  ['update with other annotations only', 'UPDATE', P_OTHER, P_OTHER, false, false],
];

function celValue(v) {
  if (Array.isArray(v)) return v.map(celValue);
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, celValue(x)]));
  return v;
}

function checkMatchConditions(hooks, errs) {
  const { run } = require('@bufbuild/cel');
  const col = { ValidatingWebhookConfiguration: 4, MutatingWebhookConfiguration: 5 };
  for (const [kind, cfg] of Object.entries(hooks)) {
    const hook = cfg.webhooks[0];
    const conds = hook.matchConditions || [];
    for (const c of CEL_CASES) {
      const [what, operation, object, oldObject] = c;
      const vars = {
        request: celValue({ operation, kind: { group: MCP_GROUP, version: 'v1', kind: 'MachineConfigPool' },
          resource: { group: MCP_GROUP, version: 'v1', resource: 'machineconfigpools' }, name: 'worker' }),
        object: celValue(object),
        oldObject: oldObject === null ? null : celValue(oldObject),
      };
      let called = true;
      for (const cond of conds) {
        let r;
        try {
          r = run(cond.expression, vars);
        } catch (e) {
          r = e;
        }
        if (typeof r !== 'boolean') {
          errs.push(`cel: ${objName(cfg)} condition ${cond.name} does not evaluate to a bool for '${what}': ${r && r.message ? r.message : r}`);
          called = null;
          break;
        }
        called = called && r;
      }
      if (called !== null && called !== c[col[kind]]) {
        errs.push(`cel: ${objName(cfg)} ${called ? 'is called' : 'is skipped'} for '${what}', expected the opposite`);
      }
    }
  }
}

// Overlay-specific: where the certificate and the CA bundle come from.
function checkOverlay(objs, overlay, svc, hooks, errs) {
  const cfgs = Object.values(hooks);
  const monitors = find(objs, 'ServiceMonitor');
  if (overlay === 'base') {
    if (monitors.length) errs.push('base must not contain a ServiceMonitor (OpenShift overlay only)');
    return;
  }
  if (overlay === 'openshift') {
    if (svc && annotations(svc)['service.beta.openshift.io/serving-cert-secret-name'] !== TLS_SECRET) {
      errs.push(`${objName(svc)}: needs service.beta.openshift.io/serving-cert-secret-name: ${TLS_SECRET}`);
    }
    for (const c of cfgs) {
      if (annotations(c)['service.beta.openshift.io/inject-cabundle'] !== 'true') errs.push(`${objName(c)}: needs service.beta.openshift.io/inject-cabundle: "true"`);
    }
    if (monitors.length !== 1) {
      errs.push('openshift overlay needs one ServiceMonitor');
    } else {
      const ep = (monitors[0].spec.endpoints || [])[0] || {};
      if (ep.path !== PATHS.metrics || ep.scheme !== 'https' || ep.port !== 'https') errs.push('ServiceMonitor must scrape https /metrics on port https');
      if (svc && !labelsMatch(monitors[0].spec.selector, svc.metadata.labels)) errs.push('ServiceMonitor selector does not select the Service');
      const ca = ((ep.tlsConfig || {}).ca || {}).configMap;
      const cm = ca && find(objs, 'ConfigMap', ca.name)[0];
      if (!cm || annotations(cm)['service.beta.openshift.io/inject-cabundle'] !== 'true' || ca.key !== 'service-ca.crt') {
        errs.push('ServiceMonitor must verify with the service CA (ConfigMap with inject-cabundle, key service-ca.crt)');
      }
    }
    return;
  }
  if (overlay === 'cert-manager') {
    if (monitors.length) errs.push('cert-manager overlay: ServiceMonitor belongs to the OpenShift overlay');
    const certs = find(objs, 'Certificate');
    const serving = certs.find((c) => c.spec.secretName === TLS_SECRET);
    if (!serving) {
      errs.push(`cert-manager overlay: no Certificate writes Secret ${TLS_SECRET}`);
      return;
    }
    const dns = `${SERVICE}.${NAMESPACE}.svc`;
    if (!(serving.spec.dnsNames || []).includes(dns)) errs.push(`${objName(serving)}: dnsNames must include ${dns}`);
    const issuer = find(objs, 'Issuer', serving.spec.issuerRef.name)[0];
    if (!issuer || (serving.spec.issuerRef.kind || 'Issuer') !== 'Issuer') errs.push(`${objName(serving)}: its Issuer is not in the manifests`);
    const ref = `${serving.metadata.namespace}/${serving.metadata.name}`;
    for (const c of cfgs) {
      if (annotations(c)['cert-manager.io/inject-ca-from'] !== ref) errs.push(`${objName(c)}: needs cert-manager.io/inject-ca-from: ${ref}`);
    }
    return;
  }
  errs.push(`unknown overlay ${overlay}`);
}

// All checks of one rendered overlay; returns the list of problems.
function checkRendered(objs, overlay, reg, serveHelp) {
  const errs = [];
  for (const o of objs) {
    for (const e of schemaErrors(reg, o)) errs.push(`${objName(o)}: ${e}`);
    const ns = o.metadata && o.metadata.namespace;
    if (ns !== undefined && ns !== NAMESPACE) errs.push(`${objName(o)}: namespace ${ns}, expected ${NAMESPACE}`);
  }
  if (find(objs, 'Namespace', NAMESPACE).length !== 1) errs.push(`Namespace ${NAMESPACE} missing`);
  checkRbac(objs, errs);
  const d = checkDeployment(objs, overlay, errs, serveHelp);
  const svc = checkService(objs, d && d.dep, errs);
  checkPdb(objs, d && d.dep, errs);
  const hooks = checkWebhooks(objs, svc, errs);
  checkMatchConditions(hooks, errs);
  checkOverlay(objs, overlay, svc, hooks, errs);
  return errs;
}

// ---- self-test: each way of breaking the manifests is caught --------------

function selfTest(rendered, reg) {
  const fakeHelp = ['listen', 'tls-cert-file', 'tls-private-key-file', 'tls-min-version', 'osimagestream-file',
    'kubeconfig', 'serviceaccount-dir', 'osimagestream-name', 'max-request-bytes', 'log-level', 'log-format',
    'shutdown-delay', 'help'].map((f) => `  --${f}`).join('\n');
  const get = (objs, kind) => find(objs, kind)[0];
  const podOf = (objs) => get(objs, 'Deployment').spec.template.spec;
  const mutations = [
    ['unknown field', (o) => { podOf(o).containers[0].readinesProbe = {}; }, /unknown field .*readinesProbe/],
    ['wrong type', (o) => { get(o, 'Deployment').spec.replicas = '2'; }, /replicas must be integer/],
    ['wildcard verb', (o) => { get(o, 'ClusterRole').rules[0].verbs.push('*'); }, /wildcard/],
    ['extra verb', (o) => { get(o, 'ClusterRole').rules[0].verbs.push('update'); }, /exactly get\+list\+watch/],
    ['extra resource', (o) => { get(o, 'ClusterRole').rules[1].resources.push('secrets'); }, /exactly get\+list\+watch/],
    ['any name', (o) => { delete get(o, 'ClusterRole').rules[0].resourceNames; }, /resourceNames must be \["cluster"\]/],
    ['named pools', (o) => { get(o, 'ClusterRole').rules[1].resourceNames = ['worker']; }, /listed cluster-wide/],
    ['privileged', (o) => { podOf(o).containers[0].securityContext.privileged = true; }, /privileged/],
    ['escalation', (o) => { delete podOf(o).containers[0].securityContext.allowPrivilegeEscalation; }, /allowPrivilegeEscalation/],
    ['caps', (o) => { podOf(o).containers[0].securityContext.capabilities.drop = ['NET_RAW']; }, /drop ALL/],
    ['fixed uid', (o) => { podOf(o).securityContext.runAsUser = 1000; }, /runAsUser is fixed/],
    ['root fs', (o) => { podOf(o).containers[0].securityContext.readOnlyRootFilesystem = false; }, /readOnlyRootFilesystem/],
    ['seccomp', (o) => { delete podOf(o).securityContext.seccompProfile; }, /seccompProfile/],
    ['hostPath', (o) => { podOf(o).volumes.push({ name: 'h', hostPath: { path: '/' } }); }, /hostPath not allowed/],
    ['bad flag', (o) => { podOf(o).containers[0].args.push('--no-such-flag=1'); }, /not a flag of/],
    ['file source', (o) => { podOf(o).containers[0].args.push('--osimagestream-file=/x'); }, /osimagestream-file set/],
    ['port', (o) => { podOf(o).containers[0].args[0] = '--listen=0.0.0.0:9443'; }, /--listen must end/],
    ['grace', (o) => { podOf(o).terminationGracePeriodSeconds = 5; }, /terminationGracePeriodSeconds/],
    ['probe path', (o) => { podOf(o).containers[0].readinessProbe.httpGet.path = '/ready'; }, /readinessProbe must be/],
    ['rw mount', (o) => { podOf(o).containers[0].volumeMounts[0].readOnly = false; }, /readOnly/],
    ['replicas', (o) => { get(o, 'Deployment').spec.replicas = 1; }, /replicas must be 2/],
    ['surge only', (o) => { get(o, 'Deployment').spec.strategy.rollingUpdate.maxUnavailable = 1; }, /maxUnavailable: 0/],
    ['no spread', (o) => { delete podOf(o).topologySpreadConstraints; delete podOf(o).affinity; }, /not spread/],
    ['priority', (o) => { delete podOf(o).priorityClassName; }, /system-cluster-critical/],
    ['limits', (o) => { delete podOf(o).containers[0].resources.limits; }, /limits\.cpu missing/],
    ['service name', (o) => { get(o, 'Service').metadata.name = 'webhook'; }, /Service osstream-webhook\/osstream-webhook missing/],
    ['target port', (o) => { get(o, 'Service').spec.ports[0].targetPort = 8080; }, /targetPort https/],
    ['path', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].clientConfig.service.path = '/validating'; }, /path must be \/validate/],
    ['fail-open validate', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].failurePolicy = 'Ignore'; }, /failurePolicy must be Fail/],
    ['no conditions', (o) => { delete get(o, 'MutatingWebhookConfiguration').webhooks[0].matchConditions; }, /matchConditions missing/],
    ['long timeout', (o) => { get(o, 'MutatingWebhookConfiguration').webhooks[0].timeoutSeconds = 30; }, /timeoutSeconds must be short/],
    ['validating sees every update', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].matchConditions[1].expression = "request.operation == 'CREATE' || true"; }, /cel: .* is called for 'update keeping the stream'/],
    ['condition that errors', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].matchConditions[1].expression = 'oldObject.spec.osImageStream != object.spec.osImageStream'; }, /cel: .* does not evaluate to a bool/],
    ['mutating misses annotations', (o) => { get(o, 'MutatingWebhookConfiguration').webhooks[0].matchConditions[0].expression = 'has(object.spec) && has(object.spec.osImageStream)'; }, /cel: .* is skipped for 'update removing the stream/],
    ['pdb', (o) => { get(o, 'PodDisruptionBudget').spec.minAvailable = 2; }, /minAvailable must be 1/],
    ['unknown kind', (o) => { o.push({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } }); }, /no schema for example.com\/v1\/Thing/],
  ];
  const perOverlay = {
    base: [['monitor in base', (o) => { o.push({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm', namespace: NAMESPACE }, spec: { selector: {}, endpoints: [] } }); }, /must not contain a ServiceMonitor/]],
    openshift: [
      ['no serving cert', (o) => { delete get(o, 'Service').metadata.annotations; }, /serving-cert-secret-name/],
      ['no ca injection', (o) => { delete get(o, 'MutatingWebhookConfiguration').metadata.annotations; }, /inject-cabundle/],
      ['metrics path', (o) => { get(o, 'ServiceMonitor').spec.endpoints[0].path = '/stats'; }, /\/metrics/],
    ],
    'cert-manager': [
      ['inject-ca-from', (o) => { get(o, 'ValidatingWebhookConfiguration').metadata.annotations['cert-manager.io/inject-ca-from'] = 'x/y'; }, /inject-ca-from/],
      ['dns names', (o) => { find(o, 'Certificate').forEach((c) => { c.spec.dnsNames = ['example.com']; }); }, /dnsNames must include/],
      ['cert schema', (o) => { find(o, 'Certificate')[0].spec.isCA = 'yes'; }, /isCA must be boolean/],
    ],
  };
  const problems = [];
  let cases = 0;
  for (const [overlay, text] of rendered) {
    const pristine = parseDocs(text);
    const clean = checkRendered(pristine, overlay, reg, fakeHelp);
    if (clean.length) problems.push(...clean.map((e) => `${overlay}: pristine manifests fail: ${e}`));
    for (const [what, mutate, expect] of [...mutations, ...(perOverlay[overlay] || [])]) {
      const objs = JSON.parse(JSON.stringify(pristine));
      mutate(objs);
      cases++;
      const errs = checkRendered(objs, overlay, reg, fakeHelp);
      if (!errs.some((e) => expect.test(e))) {
        problems.push(`${overlay}: mutation '${what}' not caught (want ${expect}); got: ${errs.join(' | ') || 'no error'}`);
      }
    }
  }
  if (durationSeconds('1m30s') !== 90 || durationSeconds('500ms') !== 0.5 || !Number.isNaN(durationSeconds('5')) ||
      !Number.isNaN(durationSeconds('5x'))) {
    problems.push('durationSeconds is wrong');
  }
  return { problems, cases };
}

// What test_manifests_serve.sh needs to run the binary as the Deployment
// does, one `key<TAB>value` line each (args one per line as `arg<TAB>...`).
function facts(objs) {
  const dep = find(objs, 'Deployment')[0];
  const svc = find(objs, 'Service', SERVICE)[0];
  const c = dep.spec.template.spec.containers[0];
  const hook = (kind) => find(objs, kind)[0].webhooks[0].clientConfig.service;
  const monitor = find(objs, 'ServiceMonitor')[0];
  const lines = [
    ['service_dns', `${svc.metadata.name}.${svc.metadata.namespace}.svc`],
    ['validate_path', hook('ValidatingWebhookConfiguration').path],
    ['mutate_path', hook('MutatingWebhookConfiguration').path],
    ['liveness_path', c.livenessProbe.httpGet.path],
    ['readiness_path', c.readinessProbe.httpGet.path],
    ['metrics_path', monitor ? monitor.spec.endpoints[0].path : PATHS.metrics],
    ['grace_seconds', String(dep.spec.template.spec.terminationGracePeriodSeconds)],
    ...(c.args || []).map((a) => ['arg', a]),
  ];
  return lines.map(([k, v]) => `${k}\t${v}`).join('\n') + '\n';
}

// ---- main -----------------------------------------------------------------

function main(argv) {
  let bin = null;
  let self = false;
  const rendered = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bin') bin = argv[++i];
    else if (argv[i] === '--self-test') self = true;
    else if (argv[i] === '--facts') {
      process.stdout.write(facts(parseDocs(fs.readFileSync(argv[++i], 'utf8'))));
      return 0;
    }
    else if (/^[a-z-]+=/.test(argv[i])) {
      const [name, file] = [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)];
      rendered.push([name, fs.readFileSync(file, 'utf8')]);
    } else {
      console.error(`check_manifests: bad argument ${argv[i]}`);
      return 2;
    }
  }
  if (!rendered.length) {
    console.error('check_manifests: no rendered overlays given');
    return 2;
  }
  const reg = loadRegistry();
  if (self) {
    const { problems, cases } = selfTest(rendered, reg);
    problems.forEach((p) => console.log(`FAIL ${p}`));
    console.log(`${problems.length ? 'FAIL' : 'ok'}: ${cases} broken variants checked over ${rendered.length} overlays`);
    return problems.length ? 1 : 0;
  }
  if (!bin) {
    console.error('check_manifests: --bin OSW_BIN is required (flags are checked against serve --help)');
    return 2;
  }
  const help = childProcess.execFileSync(bin, ['serve', '--help'], { encoding: 'utf8', timeout: 10000 });
  if (!flagNamesFromHelp(help).has('listen')) {
    console.error(`check_manifests: '${bin} serve --help' lists no --listen flag:\n${help}`);
    return 1;
  }
  let failed = 0;
  for (const [overlay, text] of rendered) {
    const objs = parseDocs(text);
    const errs = checkRendered(objs, overlay, reg, help);
    // The Deployment's args, handed to the real parser: all of them must
    // parse (names and values) before --help ends the run with exit 0.
    const dep = find(objs, 'Deployment')[0];
    if (dep) {
      const args = dep.spec.template.spec.containers[0].args || [];
      const r = childProcess.spawnSync(bin, ['serve', ...args, '--help'], { encoding: 'utf8', timeout: 10000 });
      if (r.status !== 0) errs.push(`'osstream-webhook serve ${args.join(' ')} --help' exited ${r.status}: ${(r.stderr || '').trim()}`);
    }
    errs.forEach((e) => console.log(`FAIL ${overlay}: ${e}`));
    console.log(`${errs.length ? 'FAIL' : 'ok'} ${overlay}: ${objs.length} objects (${objs.map((o) => o.kind).join(', ')})`);
    failed += errs.length;
  }
  return failed ? 1 : 0;
}

module.exports = { checkRendered, parseDocs, loadRegistry, schemaErrors, durationSeconds };

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`check_manifests: ${e.message}`);
    process.exitCode = 1;
  }
}
