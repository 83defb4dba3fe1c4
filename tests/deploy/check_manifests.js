// SPDX-License-Identifier: Apache-2.0
// Checks the rendered deploy/ overlays: every object against the Kubernetes
// (and cert-manager, prometheus-operator) OpenAPI schemas from the
// kubernetes-models packages, unknown fields included, then the promises the
// manifests make: they point at what the server serves (Service, port,
// paths), the RBAC grants each subject exactly what it needs (the webhook:
// list+watch on osimagestreams, create on tokenreviews and
// subjectaccessreviews; the monitoring stack: discovery in the namespace and
// get on /metrics), the webhook registration is exactly the one
// deploy/base/validatingwebhookconfiguration.yaml explains (one validating
// entry per kind: pools that set or change a stream, other pool writes,
// MachineConfigs, OSImageStream DELETE, OSImageStream defaultStream
// changes; one mutating entry for pools; each with its failurePolicy), the
// rules and matchConditions (evaluated with a CEL implementation) send each
// entry exactly the requests they should, the deletion guard sees every
// OSImageStream DELETE with failurePolicy Fail, no condition ever fails to
// evaluate, the alerts select the entries by failurePolicy, the pod meets the "restricted" Pod Security level and
// OpenShift's restricted-v2 SCC, the NetworkPolicies select the pods and
// open exactly the admission port, the metrics port (to monitoring) and
// egress to the API server, OpenShift places the replicas on control-plane
// nodes, resources have no CPU limit, every object carries the common
// labels, an outage cannot wedge the cluster, the Deployment's flags are
// flags of `osstream-webhook serve`, and /metrics needs a bearer token
// (`--metrics-auth=kubernetes`) exactly in the OpenShift overlays, whose
// ServiceMonitor sends one; base and cert-manager keep `none`.
//
// Usage: node check_manifests.js --bin OSW_BIN NAME=RENDERED.yaml...
//        node check_manifests.js --self-test NAME=RENDERED.yaml...
//        node check_manifests.js --facts RENDERED.yaml  (for test_manifests_serve.sh)
//        node check_manifests.js --rules RENDERED.yaml  (the PrometheusRule's spec
//                                                        as JSON, for promtool)
// NAME is base, openshift, openshift-single-node or cert-manager. Exit 0 when everything holds,
// 1 with one line per problem otherwise.
'use strict';

const fs = require('fs');
const childProcess = require('child_process');
const YAML = require('yaml');

// ---- what the server serves (CONTRACT.md, "HTTP surface", "serve" flags) ----
const NAMESPACE = 'osstream-webhook';
const SERVICE = 'osstream-webhook';
const CONTAINER_PORT = 8443;
const METRICS_PORT = 9443; // --metrics-listen
const API_SERVER_PORTS = [443, 6443];
const COMMON_LABELS = { 'app.kubernetes.io/name': 'osstream-webhook', 'app.kubernetes.io/part-of': 'osstream-webhook' };
const MONITORING_SA = { namespace: 'openshift-monitoring', name: 'prometheus-k8s' };
const OPENSHIFT = ['openshift', 'openshift-single-node'];
// bench/RESULTS.md: peak RSS under load 29.5 MiB; CONTRACT.md: 500 idle TLS
// connections stay under 128 MiB.
const MEMORY_PEAK_MIB = 29.5;
const MEMORY_CEILING_MIB = 128;
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

// Kubernetes memory quantity ("32Mi", "256M", "1Gi", "33554432") to MiB; NaN when malformed.
function mebibytes(q) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(q === undefined ? '' : q));
  if (!m) return NaN;
  const mult = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2]] || 1;
  return (parseFloat(m[1]) * mult) / 1024 ** 2;
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

// RBAC as atoms "group|resource-or-URL|verb|resourceNames", per subject.
const atomsOf = (rule) => {
  const out = [];
  for (const v of rule.verbs || []) {
    if (rule.nonResourceURLs) {
      for (const u of rule.nonResourceURLs) out.push(`url|${u}|${v}|`);
    } else {
      for (const g of rule.apiGroups || []) {
        for (const r of rule.resources || []) out.push(`${g}|${r}|${v}|${(rule.resourceNames || []).join(',')}`);
      }
    }
  }
  return out;
};
// get+list+watch on the OSImageStream singleton (resourceNames works for
// list and watch with the name field selector the webhook always sends);
// list+watch, cluster-wide, on pools and MachineConfigs (the cross-object
// rules); create on the two reviews (metrics authentication). Nothing else.
const WEBHOOK_REQUIRED = [
  ...['get', 'list', 'watch'].map((v) => `${MCP_GROUP}|osimagestreams|${v}|cluster`),
  ...['machineconfigpools', 'machineconfigs'].flatMap((r) => ['list', 'watch'].map((v) => `${MCP_GROUP}|${r}|${v}|`)),
  'authentication.k8s.io|tokenreviews|create|', 'authorization.k8s.io|subjectaccessreviews|create|',
];
const WEBHOOK_ATOMS = { allowed: WEBHOOK_REQUIRED, required: WEBHOOK_REQUIRED };
const MONITORING_ATOMS = {
  allowed: ['url|/metrics|get|', ...['services', 'endpoints', 'pods'].flatMap((r) => ['get', 'list', 'watch'].map((v) => `|${r}|${v}|`)),
    ...['get', 'list', 'watch'].map((v) => `discovery.k8s.io|endpointslices|${v}|`)],
  required: ['url|/metrics|get|', '|endpoints|list|', '|services|list|', '|pods|list|'],
};

// What each subject ("ServiceAccount:ns/name") is granted, over every
// binding, as a Map of Sets of atoms. Also what test_manifests_serve.sh's
// API server double decides SubjectAccessReviews with.
function grantsOf(objs, errs) {
  const roles = [...find(objs, 'ClusterRole'), ...find(objs, 'Role')];
  const bindings = [...find(objs, 'ClusterRoleBinding'), ...find(objs, 'RoleBinding')];
  const grants = new Map();
  for (const b of bindings) {
    const role = roles.find((r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name);
    if (!role) {
      errs.push(`${objName(b)}: its ${b.roleRef.kind} ${b.roleRef.name} is not in the manifests`);
      continue;
    }
    for (const subj of b.subjects || []) {
      const key = `${subj.kind}:${subj.namespace || ''}/${subj.name}`;
      if (!grants.has(key)) grants.set(key, new Set());
      for (const x of role.rules || []) atomsOf(x).forEach((a) => grants.get(key).add(a));
    }
  }
  return grants;
}

function checkRbac(objs, overlay, errs) {
  const roles = [...find(objs, 'ClusterRole'), ...find(objs, 'Role')];
  const bindings = [...find(objs, 'ClusterRoleBinding'), ...find(objs, 'RoleBinding')];
  for (const r of roles) {
    if (hasWildcard(r.rules)) errs.push(`${objName(r)}: wildcard in rules`);
    if (r.aggregationRule) errs.push(`${objName(r)}: aggregationRule grants what it aggregates`);
    for (const x of r.rules || []) {
      if (x.resourceNames && x.resources && x.resources.includes('osimagestreams') && JSON.stringify(x.resourceNames) !== '["cluster"]') {
        errs.push(`${objName(r)}: resourceNames must be ["cluster"] (the default --osimagestream-name)`);
      }
      if (x.resourceNames && x.resources && x.resources.some((res) => res === 'machineconfigpools' || res === 'machineconfigs')) {
        errs.push(`${objName(r)}: resourceNames on ${x.resources}: they are listed cluster-wide`);
      }
    }
    const bound = bindings.some((b) => b.roleRef.kind === r.kind && b.roleRef.name === r.metadata.name);
    if (!bound) errs.push(`${objName(r)}: bound to nobody`);
  }
  const sa = find(objs, 'ServiceAccount', SERVICE).filter((o) => o.metadata.namespace === NAMESPACE);
  if (sa.length !== 1) errs.push(`ServiceAccount ${NAMESPACE}/${SERVICE} missing`);
  const grants = grantsOf(objs, errs);
  const webhook = `ServiceAccount:${NAMESPACE}/${SERVICE}`;
  const monitoring = `ServiceAccount:${MONITORING_SA.namespace}/${MONITORING_SA.name}`;
  const expect = { [webhook]: WEBHOOK_ATOMS };
  if (OPENSHIFT.includes(overlay)) expect[monitoring] = MONITORING_ATOMS;
  for (const [subj, atoms] of grants) {
    const want = expect[subj];
    if (!want) {
      errs.push(`RBAC: ${subj} is granted ${[...atoms].join(' ')} but should get nothing`);
      continue;
    }
    const extra = [...atoms].filter((a) => !want.allowed.includes(a));
    if (extra.length) errs.push(`RBAC: ${subj} is granted more than it needs: ${extra.join(' ')}`);
  }
  for (const [subj, want] of Object.entries(expect)) {
    const got = grants.get(subj) || new Set();
    const missing = want.required.filter((a) => !got.has(a));
    if (missing.length) errs.push(`RBAC: ${subj} lacks ${missing.join(' ')}`);
  }
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
  const replicas = overlay === 'openshift-single-node' ? 1 : 2;
  if (spec.replicas !== replicas) errs.push(`${where}: replicas must be ${replicas}, got ${spec.replicas}`);
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
  const mlisten = flags.get('metrics-listen') || '';
  const mm = /:(\d+)$/.exec(mlisten);
  if (!mm || Number(mm[1]) !== METRICS_PORT) errs.push(`${cw}: --metrics-listen must end in :${METRICS_PORT}, got ${mlisten}`);
  const mport = (c.ports || []).find((p) => p.name === 'metrics');
  if (!mport || mport.containerPort !== METRICS_PORT) errs.push(`${cw}: needs containerPort ${METRICS_PORT} named metrics`);
  // Metrics authentication (CONTRACT.md, "Metrics access"). The OpenShift
  // overlays turn it on: their ServiceMonitor sends platform Prometheus's
  // token and they bind prometheus-k8s to get /metrics (checked above and in
  // checkOverlay). The base and cert-manager leave it at `none`: no scraper
  // there is known to send a token, and one that does not would get 401.
  const mauth = flags.has('metrics-auth') ? flags.get('metrics-auth') : 'none';
  if (!['none', 'kubernetes'].includes(mauth)) {
    errs.push(`${cw}: --metrics-auth must be none or kubernetes, got ${mauth}`);
  } else if (OPENSHIFT.includes(overlay) && mauth !== 'kubernetes') {
    errs.push(`${cw}: --metrics-auth must be kubernetes on OpenShift (the ServiceMonitor sends prometheus-k8s's token), got ${mauth}`);
  } else if (!OPENSHIFT.includes(overlay) && mauth !== 'none') {
    errs.push(`${cw}: --metrics-auth must stay none in ${overlay} (no scraper there is known to send a bearer token), got ${mauth}`);
  }
  if (c.terminationMessagePolicy !== 'FallbackToLogsOnError') {
    errs.push(`${cw}: terminationMessagePolicy must be FallbackToLogsOnError (start-up errors in oc describe pod)`);
  }
  // OpenShift: on the control-plane nodes, as the MCO's own controller.
  if (OPENSHIFT.includes(overlay)) {
    if ((pod.nodeSelector || {})['node-role.kubernetes.io/master'] !== '') {
      errs.push(`${where}: OpenShift runs it on control-plane nodes: nodeSelector node-role.kubernetes.io/master: ""`);
    }
    const tol = pod.tolerations || [];
    for (const key of ['node-role.kubernetes.io/master', 'node-role.kubernetes.io/control-plane']) {
      if (!tol.some((t) => t.key === key && t.operator === 'Exists' && t.effect === 'NoSchedule')) {
        errs.push(`${where}: needs a toleration of ${key}:NoSchedule (control-plane nodes)`);
      }
    }
  } else if (pod.nodeSelector && Object.keys(pod.nodeSelector).some((k) => k.startsWith('node-role.kubernetes.io/'))) {
    errs.push(`${where}: node-role placement belongs to the OpenShift overlays`);
  }

  // Probes: HTTPS GET on the routes the server serves, on the https port.
  for (const [probe, path] of [['livenessProbe', PATHS.healthz], ['readinessProbe', PATHS.readyz]]) {
    const g = (c[probe] || {}).httpGet || {};
    if (g.path !== path || g.scheme !== 'HTTPS' || (g.port !== 'https' && g.port !== CONTAINER_PORT)) {
      errs.push(`${cw}: ${probe} must be HTTPS GET ${path} on port https, got ${JSON.stringify(g)}`);
    }
  }
  // Resources: requests for cpu and memory, a memory limit, no CPU limit
  // (a throttled webhook sits in the API server's write path).
  const res = c.resources || {};
  for (const r of ['cpu', 'memory']) if (!(res.requests || {})[r]) errs.push(`${cw}: resources.requests.${r} missing`);
  if (!(res.limits || {}).memory) errs.push(`${cw}: resources.limits.memory missing`);
  if ((res.limits || {}).cpu !== undefined) errs.push(`${cw}: resources.limits.cpu set: no CPU limit for a webhook in the API server's write path`);
  const reqMiB = mebibytes((res.requests || {}).memory);
  if (!(reqMiB >= MEMORY_PEAK_MIB)) errs.push(`${cw}: memory request ${(res.requests || {}).memory} is below the measured peak ${MEMORY_PEAK_MIB} MiB (bench/RESULTS.md)`);
  const limMiB = mebibytes((res.limits || {}).memory);
  if (!(limMiB >= MEMORY_CEILING_MIB)) errs.push(`${cw}: memory limit ${(res.limits || {}).memory} is below CONTRACT.md's ${MEMORY_CEILING_MIB} MiB ceiling`);
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
  const mp = (svc.spec.ports || []).find((x) => x.name === 'metrics');
  if (!mp || (mp.targetPort !== 'metrics' && mp.targetPort !== METRICS_PORT)) {
    errs.push(`${objName(svc)}: needs a port named metrics -> targetPort metrics (${METRICS_PORT})`);
  }
  if (dep && !Object.entries(svc.spec.selector || {}).every(([k, v]) => dep.spec.template.metadata.labels[k] === v)) {
    errs.push(`${objName(svc)}: selector does not select the Deployment's pods`);
  }
  if (!Object.keys(svc.spec.selector || {}).length) errs.push(`${objName(svc)}: empty selector`);
  return svc;
}

function checkPdb(objs, overlay, dep, errs) {
  const pdbs = find(objs, 'PodDisruptionBudget');
  if (overlay === 'openshift-single-node') {
    // One replica: any PDB that keeps one available blocks every drain.
    if (pdbs.length) errs.push('single-node overlay: a PodDisruptionBudget over one replica blocks the MCO\'s drain');
    return;
  }
  if (pdbs.length !== 1) {
    errs.push(`expected exactly 1 PodDisruptionBudget, found ${pdbs.length}`);
    return;
  }
  const pdb = pdbs[0];
  if (pdb.spec.minAvailable !== 1) errs.push(`${objName(pdb)}: minAvailable must be 1`);
  if (dep && !labelsMatch(pdb.spec.selector, dep.spec.template.metadata.labels)) errs.push(`${objName(pdb)}: selector does not match the pods`);
}

// NetworkPolicies: a default deny for the namespace; the webhook's pods
// selected for Ingress and Egress; ingress only on the admission port (from
// the API server: host-network traffic on OpenShift) and on the metrics port
// (from the monitoring namespace only); egress only to the API server's
// ports.
function checkNetworkPolicies(objs, overlay, dep, errs) {
  if (!dep) return;
  const pols = find(objs, 'NetworkPolicy');
  const podLabels = dep.spec.template.metadata.labels || {};
  const selectorEmpty = (sel) => !sel || (!Object.keys(sel.matchLabels || {}).length && !(sel.matchExpressions || []).length);
  const selects = (p) => {
    const sel = p.spec.podSelector || {};
    if ((sel.matchExpressions || []).length) return false; // not used here: judged as not selecting
    return Object.entries(sel.matchLabels || {}).every(([k, v]) => podLabels[k] === v);
  };
  const types = (p) => p.spec.policyTypes || ['Ingress', ...(p.spec.egress ? ['Egress'] : [])];
  const deny = pols.some((p) => selectorEmpty(p.spec.podSelector) && types(p).includes('Ingress') && types(p).includes('Egress') &&
    !(p.spec.ingress || []).length && !(p.spec.egress || []).length);
  if (!deny) errs.push('NetworkPolicy: no default-deny policy (podSelector {}, Ingress and Egress, no rules)');
  const mine = pols.filter(selects);
  for (const t of ['Ingress', 'Egress']) {
    if (!mine.some((p) => types(p).includes(t) && (p.spec[t.toLowerCase()] || []).length)) {
      errs.push(`NetworkPolicy: no policy with ${t} rules selects the webhook's pods`);
    }
  }
  const c = dep.spec.template.spec.containers[0];
  const named = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
  const portOf = (p) => (typeof p.port === 'string' ? named[p.port] : p.port);
  const monitoringNs = OPENSHIFT.includes(overlay) ? 'openshift-monitoring' : 'monitoring';
  const onlyNs = (from, labels) => Array.isArray(from) && from.length > 0 && from.every((peer) =>
    !peer.ipBlock && !peer.podSelector && peer.namespaceSelector && !(peer.namespaceSelector.matchExpressions || []).length &&
    JSON.stringify(peer.namespaceSelector.matchLabels || {}) === JSON.stringify(labels));
  let admission = false;
  let metrics = false;
  for (const p of mine) {
    for (const rule of p.spec.ingress || []) {
      if (!(rule.ports || []).length) {
        errs.push(`${objName(p)}: an ingress rule without ports opens every port`);
        continue;
      }
      for (const port of rule.ports) {
        const n = portOf(port);
        if ((port.protocol || 'TCP') !== 'TCP') errs.push(`${objName(p)}: ingress port ${port.port} is not TCP`);
        if (n === CONTAINER_PORT) {
          admission = true;
          if (OPENSHIFT.includes(overlay) && !onlyNs(rule.from, { 'policy-group.network.openshift.io/host-network': '' })) {
            errs.push(`${objName(p)}: on OpenShift the admission port must admit only host-network traffic (the API server)`);
          }
        } else if (n === METRICS_PORT) {
          metrics = true;
          if (!onlyNs(rule.from, { 'kubernetes.io/metadata.name': monitoringNs })) {
            errs.push(`${objName(p)}: the metrics port must admit only namespace ${monitoringNs}`);
          }
        } else {
          errs.push(`${objName(p)}: ingress opens port ${port.port}, which the webhook does not serve`);
        }
      }
    }
    for (const rule of p.spec.egress || []) {
      if (!(rule.ports || []).length) {
        errs.push(`${objName(p)}: an egress rule without ports allows every port`);
        continue;
      }
      for (const port of rule.ports) {
        if (!API_SERVER_PORTS.includes(port.port) || (port.protocol || 'TCP') !== 'TCP') {
          errs.push(`${objName(p)}: egress to port ${port.port}: only the API server (TCP ${API_SERVER_PORTS.join(', ')})`);
        }
      }
    }
  }
  if (!admission) errs.push(`NetworkPolicy: the admission port ${CONTAINER_PORT} is not reachable`);
  if (!metrics) errs.push(`NetworkPolicy: the metrics port ${METRICS_PORT} is not reachable from ${monitoringNs}`);
  if (!mine.some((p) => (p.spec.egress || []).some((r) => (r.ports || []).some((x) => x.port === 6443)))) {
    errs.push('NetworkPolicy: no egress to the API server (TCP 6443)');
  }
}

// The common labels, on every object of every overlay.
function checkLabels(objs, errs) {
  for (const o of objs) {
    const labels = (o.metadata && o.metadata.labels) || {};
    for (const [k, v] of Object.entries(COMMON_LABELS)) {
      if (labels[k] !== v) errs.push(`${objName(o)}: common label ${k}: ${v} missing`);
    }
  }
}

// The PrometheusRule's alerts: each one named, with a severity and a runbook
// in docs/operations.md (the anchor is the alert name in lower case).
const ALERTS = ['OSStreamWebhookDown', 'OSStreamWebhookNoReadyReplicas', 'OSStreamWebhookOSImageStreamNotSynced',
  'OSStreamWebhookCertificateExpiring', 'OSStreamWebhookErrors', 'OSStreamWebhookSlow',
  'OSStreamWebhookCallsFailing', 'OSStreamWebhookFailingOpen'];
function checkAlerts(objs, errs) {
  const rules = find(objs, 'PrometheusRule');
  if (rules.length !== 1) {
    errs.push(`expected exactly 1 PrometheusRule, found ${rules.length}`);
    return;
  }
  const alerts = (rules[0].spec.groups || []).flatMap((g) => g.rules || []).filter((r) => r.alert);
  const names = alerts.map((a) => a.alert);
  for (const want of ALERTS) if (!names.includes(want)) errs.push(`PrometheusRule: alert ${want} missing`);
  for (const a of alerts) {
    if (!['critical', 'warning', 'info'].includes((a.labels || {}).severity)) errs.push(`PrometheusRule: ${a.alert} has no severity`);
    const url = (a.annotations || {}).runbook_url || '';
    if (!url.endsWith(`docs/operations.md#${a.alert.toLowerCase()}`)) errs.push(`PrometheusRule: ${a.alert} runbook_url must point to docs/operations.md#${a.alert.toLowerCase()}`);
    if (!(a.annotations || {}).summary || !(a.annotations || {}).description) errs.push(`PrometheusRule: ${a.alert} needs summary and description`);
  }
  // The alerts on the API server's webhook metrics select the entries by
  // name: failed calls of every Fail entry reject writes, those of every
  // Ignore entry let them through. A renamed or new entry must follow.
  const entries = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].flatMap((k) => find(objs, k).flatMap((c) => c.webhooks || []));
  for (const [alertName, policy] of [['OSStreamWebhookCallsFailing', 'Fail'], ['OSStreamWebhookFailingOpen', 'Ignore']]) {
    const a = alerts.find((x) => x.alert === alertName);
    if (!a) continue;
    const m = /name=~`([^`]*)`/.exec(a.expr || '');
    if (!m) {
      errs.push(`PrometheusRule: ${alertName} must select the webhooks with name=~\`...\``);
      continue;
    }
    const re = new RegExp(`^(?:${m[1]})$`); // PromQL regexes are anchored
    for (const h of entries) {
      const want = h.failurePolicy === policy;
      if (re.test(h.name) !== want) errs.push(`PrometheusRule: ${alertName} ${want ? 'misses' : 'selects'} webhook ${h.name} (failurePolicy ${h.failurePolicy})`);
    }
  }
}

// The registration, entry by entry (deploy/base/*webhookconfiguration.yaml
// says why each one has its failurePolicy and matchConditions). Exactly these
// entries, with exactly these rules: a missing kind or operation is a rule of
// CONTRACT.md that never fires in a cluster.
const HOST = 'osimagestream.machineconfiguration.openshift.io';
const W = {
  validate: `validate.${HOST}`, pools: `pools.${HOST}`, mcs: `machineconfigs.${HOST}`,
  guard: `delete-guard.${HOST}`, defaults: `default-stream.${HOST}`, mutate: `mutate.${HOST}`,
};
const REGISTRATION = {
  ValidatingWebhookConfiguration: [
    { name: W.validate, failurePolicy: 'Fail', resource: 'machineconfigpools', versions: ['v1'], operations: ['CREATE', 'UPDATE'] },
    { name: W.pools, failurePolicy: 'Ignore', resource: 'machineconfigpools', versions: ['v1'], operations: ['CREATE', 'UPDATE'] },
    { name: W.mcs, failurePolicy: 'Ignore', resource: 'machineconfigs', versions: ['v1'], operations: ['CREATE', 'UPDATE'] },
    // Never exempt, so no matchConditions at all.
    { name: W.guard, failurePolicy: 'Fail', resource: 'osimagestreams', versions: ['v1', 'v1alpha1'], operations: ['DELETE'], noConditions: true },
    { name: W.defaults, failurePolicy: 'Ignore', resource: 'osimagestreams', versions: ['v1', 'v1alpha1'], operations: ['UPDATE'] },
  ],
  MutatingWebhookConfiguration: [
    { name: W.mutate, failurePolicy: 'Ignore', reinvocationPolicy: 'IfNeeded', resource: 'machineconfigpools', versions: ['v1'], operations: ['CREATE', 'UPDATE'] },
  ],
};
const PATH_OF = { ValidatingWebhookConfiguration: PATHS.validate, MutatingWebhookConfiguration: PATHS.mutate };
// --exempt-namespace's default, and what the matchConditions skip.
const EXEMPT_NS = 'openshift-machine-config-operator';

function checkWebhooks(objs, svc, errs) {
  const out = {};
  for (const [kind, entries] of Object.entries(REGISTRATION)) {
    const cfgs = find(objs, kind);
    if (cfgs.length !== 1) {
      errs.push(`expected exactly 1 ${kind}, found ${cfgs.length}`);
      continue;
    }
    const cfg = cfgs[0];
    out[kind] = cfg;
    const hooks = cfg.webhooks || [];
    const names = hooks.map((h) => h.name);
    const want = entries.map((e) => e.name);
    for (const n of want) if (!names.includes(n)) errs.push(`${objName(cfg)}: webhook ${n} missing`);
    for (const n of names) {
      if (!want.includes(n)) errs.push(`${objName(cfg)}: webhook ${n} is not part of the registration (expected exactly ${want.join(', ')})`);
    }
    if (new Set(names).size !== names.length) errs.push(`${objName(cfg)}: webhook names must be unique`);
    for (const hook of hooks) {
      const w = entries.find((e) => e.name === hook.name);
      if (!w) continue;
      const where = `${objName(cfg)} webhook ${hook.name}`;
      const s = (hook.clientConfig || {}).service || {};
      if ((hook.clientConfig || {}).url) errs.push(`${where}: clientConfig.url set; use the Service`);
      if (s.name !== SERVICE || s.namespace !== NAMESPACE) errs.push(`${where}: service must be ${NAMESPACE}/${SERVICE}`);
      if (s.path !== PATH_OF[kind]) errs.push(`${where}: path must be ${PATH_OF[kind]}, got ${s.path}`);
      const port = s.port === undefined ? 443 : s.port;
      if (svc && !(svc.spec.ports || []).some((p) => p.port === port)) errs.push(`${where}: port ${port} is not a port of the Service`);
      if (hook.failurePolicy !== w.failurePolicy) errs.push(`${where}: failurePolicy must be ${w.failurePolicy}`);
      if (w.reinvocationPolicy && hook.reinvocationPolicy !== w.reinvocationPolicy) errs.push(`${where}: reinvocationPolicy must be ${w.reinvocationPolicy}`);
      if (hook.sideEffects !== 'None') errs.push(`${where}: sideEffects must be None`);
      if (JSON.stringify(hook.admissionReviewVersions) !== '["v1"]') errs.push(`${where}: admissionReviewVersions must be ["v1"]`);
      if (hook.matchPolicy !== 'Equivalent') errs.push(`${where}: matchPolicy must be Equivalent`);
      if (!(Number.isInteger(hook.timeoutSeconds) && hook.timeoutSeconds >= 1 && hook.timeoutSeconds <= 10)) {
        errs.push(`${where}: timeoutSeconds must be short (1-10), got ${hook.timeoutSeconds}`);
      }
      if (w.failurePolicy === 'Ignore' && hook.timeoutSeconds > 5) errs.push(`${where}: timeoutSeconds of a failurePolicy Ignore entry must be at most 5 (a slow answer is only skipped)`);
      const rules = hook.rules || [];
      const rule = JSON.stringify({ apiGroups: [MCP_GROUP], apiVersions: w.versions, resources: [w.resource], operations: w.operations, scope: 'Cluster' });
      if (rules.length !== 1 || JSON.stringify({ apiGroups: rules[0].apiGroups, apiVersions: rules[0].apiVersions,
        resources: rules[0].resources, operations: rules[0].operations, scope: rules[0].scope }) !== rule) {
        errs.push(`${where}: rules must be exactly ${w.resource} ${w.operations.join(', ')} in ${MCP_GROUP} ${w.versions.join(', ')}, scope Cluster`);
      }
      if (hasWildcard(rules)) errs.push(`${where}: wildcard in rules`);
      if (hook.namespaceSelector && Object.keys(hook.namespaceSelector).length) errs.push(`${where}: namespaceSelector is meaningless for a cluster-scoped resource`);
      if (hook.objectSelector && Object.keys(hook.objectSelector).length) errs.push(`${where}: objectSelector set: objects could opt out by their labels`);
      if (w.noConditions) {
        if ((hook.matchConditions || []).length) errs.push(`${where}: the deletion guard must have no matchConditions (it is never exempt)`);
      } else if (!(hook.matchConditions || []).length) {
        errs.push(`${where}: matchConditions missing (they keep the cluster editable when the webhook is down)`);
      }
    }
  }
  return out;
}

// The matchConditions and rules, evaluated as the API server would (rules:
// group, version, resource without subresource, operation; then every
// condition with a CEL implementation, @bufbuild/cel) over requests of every
// registered kind: which entries each request reaches, and that no
// condition ever fails to evaluate (an error falls back to failurePolicy,
// and for the Fail entries that is a denial).
const POOL_ANN = { [STREAM_ANNOTATIONS[0]]: 'rhel-9', [STREAM_ANNOTATIONS[1]]: 'quay.io/x/y@sha256:0' };
const pool = (spec, annotations, name) => ({
  apiVersion: `${MCP_GROUP}/v1`, kind: 'MachineConfigPool',
  metadata: { name: name || 'worker', ...(annotations ? { annotations } : {}) }, ...(spec ? { spec } : {}),
});
const P_NONE = pool({ paused: false });
const P_9 = pool({ osImageStream: { name: 'rhel-9' } }, POOL_ANN);
const P_9_CONF = pool({ osImageStream: { name: 'rhel-9' }, configuration: { name: 'rendered-worker-2' } }, POOL_ANN);
const P_10 = pool({ osImageStream: { name: 'rhel-10' } });
const P_ANN = pool({ paused: true }, POOL_ANN);
const P_OTHER = pool({}, { 'example.com/x': 'y' });
const P_NOSPEC = pool(null);
const P_CUSTOM = pool({ machineConfigSelector: { matchLabels: { 'machineconfiguration.openshift.io/role': 'infra' } } }, null, 'infra');
const GEN = 'machineconfiguration.openshift.io/generated-by-controller-version';
const mc = (annotations, url) => ({
  apiVersion: `${MCP_GROUP}/v1`, kind: 'MachineConfig',
  metadata: { name: '99-worker-x', labels: { 'machineconfiguration.openshift.io/role': 'worker' }, ...(annotations ? { annotations } : {}) },
  spec: { ...(url ? { osImageURL: url } : {}), config: { ignition: { version: '3.4.0' } } },
});
const MC_URL = mc(null, 'quay.io/x/os@sha256:1');
const MC_RUNC = mc({ 'example.com/x': 'y' });
const MC_GEN = mc({ [GEN]: '4.20.0-abc' });
const MC_GEN_EMPTY = mc({ [GEN]: '' });
const osis = (def, labels) => ({
  apiVersion: `${MCP_GROUP}/v1`, kind: 'OSImageStream', metadata: { name: 'cluster', ...(labels ? { labels } : {}) },
  ...(def === undefined ? {} : { spec: { defaultStream: def } }),
});
const ADMIN = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const sa = (ns, name) => ({ username: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const MCO = sa(EXEMPT_NS, 'machine-config-controller');
const MCO_OPERATOR = sa(EXEMPT_NS, 'machine-config-operator');
const NTO = sa('openshift-cluster-node-tuning-operator', 'cluster-node-tuning-operator');
const LOOKALIKE = sa(`${EXEMPT_NS}-extra`, 'x');
const NO_NAME = {};
// [what, {resource, version, operation, subResource, user, object, oldObject, dryRun}, entries that must be called,
//  guard: the deletion guard must see it with failurePolicy Fail]
const R = (resource, operation, user, object, oldObject, more) => ({ resource, version: 'v1', operation, user, object, oldObject, ...(more || {}) });
const CEL_CASES = [
  ['create naming a stream', R('machineconfigpools', 'CREATE', ADMIN, P_10, null), [W.validate, W.mutate]],
  ['create on the default stream', R('machineconfigpools', 'CREATE', ADMIN, P_NONE, null), [W.pools]],
  ['create without spec', R('machineconfigpools', 'CREATE', ADMIN, P_NOSPEC, null), [W.pools]],
  ['create of a custom pool inheriting the worker stream', R('machineconfigpools', 'CREATE', ADMIN, P_CUSTOM, null), [W.pools]],
  ['update on the default stream (pause, labels)', R('machineconfigpools', 'UPDATE', ADMIN, P_NONE, P_NONE), [W.pools]],
  ['update keeping the stream', R('machineconfigpools', 'UPDATE', ADMIN, { ...P_9, metadata: { ...P_9.metadata, labels: { a: 'b' } } }, P_9), [W.pools, W.mutate]],
  ['update keeping the stream by a user without a name', R('machineconfigpools', 'UPDATE', NO_NAME, P_9, P_9), [W.pools, W.mutate]],
  ['update changing the stream', R('machineconfigpools', 'UPDATE', ADMIN, P_10, P_9), [W.validate, W.mutate]],
  ['update adding a stream', R('machineconfigpools', 'UPDATE', ADMIN, P_10, P_NONE), [W.validate, W.mutate]],
  ['update adding a stream to a pool without spec', R('machineconfigpools', 'UPDATE', ADMIN, P_10, P_NOSPEC), [W.validate, W.mutate]],
  ['update removing the stream, annotations left', R('machineconfigpools', 'UPDATE', ADMIN, P_ANN, P_9), [W.pools, W.mutate]],
  ['update with other annotations only', R('machineconfigpools', 'UPDATE', ADMIN, P_OTHER, P_OTHER), [W.pools]],
  ['MCO render controller update keeping the stream', R('machineconfigpools', 'UPDATE', MCO, P_9_CONF, P_9), [W.mutate]],
  ['MCO update on the default stream', R('machineconfigpools', 'UPDATE', MCO, P_NONE, P_NONE), []],
  ['MCO create naming a stream', R('machineconfigpools', 'CREATE', MCO_OPERATOR, P_10, null), [W.validate, W.mutate]],
  ['MCO update changing the stream', R('machineconfigpools', 'UPDATE', MCO, P_10, P_9), [W.validate, W.mutate]],
  ['pool status update', R('machineconfigpools', 'UPDATE', MCO, P_9, P_9, { subResource: 'status' }), []],
  ['pool delete', R('machineconfigpools', 'DELETE', ADMIN, null, P_9), []],
  ['machineconfig create setting osImageURL', R('machineconfigs', 'CREATE', ADMIN, MC_URL, null), [W.mcs]],
  ['machineconfig update', R('machineconfigs', 'UPDATE', ADMIN, MC_RUNC, MC_URL), [W.mcs]],
  ['machineconfig create without annotations', R('machineconfigs', 'CREATE', ADMIN, mc(null), null), [W.mcs]],
  ['machineconfig with an empty generated-by annotation', R('machineconfigs', 'CREATE', ADMIN, MC_GEN_EMPTY, null), [W.mcs]],
  ['machineconfig of another operator', R('machineconfigs', 'UPDATE', NTO, MC_RUNC, MC_RUNC), [W.mcs]],
  ['machineconfig of a look-alike namespace', R('machineconfigs', 'CREATE', LOOKALIKE, MC_RUNC, null), [W.mcs]],
  ['machineconfig of a user without a name', R('machineconfigs', 'CREATE', NO_NAME, MC_RUNC, null), [W.mcs]],
  ['generated machineconfig by the MCO', R('machineconfigs', 'UPDATE', MCO, MC_GEN, MC_GEN), []],
  ['generated machineconfig by a user', R('machineconfigs', 'CREATE', ADMIN, MC_GEN, null), []],
  ['machineconfig of the MCO, not generated', R('machineconfigs', 'CREATE', MCO_OPERATOR, MC_URL, null), []],
  ['machineconfig delete', R('machineconfigs', 'DELETE', ADMIN, null, MC_URL), []],
  ['osimagestream delete', R('osimagestreams', 'DELETE', ADMIN, null, osis('rhel-9')), [W.guard], true],
  ['osimagestream delete in v1alpha1', R('osimagestreams', 'DELETE', ADMIN, null, osis('rhel-9'), { version: 'v1alpha1' }), [W.guard], true],
  ['osimagestream delete by the MCO', R('osimagestreams', 'DELETE', MCO_OPERATOR, null, osis('rhel-9')), [W.guard], true],
  ['osimagestream delete, dry run, another name', R('osimagestreams', 'DELETE', ADMIN, null, { ...osis(), metadata: { name: 'other' } }, { dryRun: true }), [W.guard], true],
  ['osimagestream default stream change', R('osimagestreams', 'UPDATE', ADMIN, osis('rhel-10'), osis('rhel-9')), [W.defaults]],
  ['osimagestream default stream change in v1alpha1', R('osimagestreams', 'UPDATE', ADMIN, osis('rhel-9'), osis('rhel-10'), { version: 'v1alpha1' }), [W.defaults]],
  ['osimagestream default stream change by the MCO', R('osimagestreams', 'UPDATE', MCO_OPERATOR, osis('rhel-10'), osis('rhel-9')), []],
  ['osimagestream update of labels', R('osimagestreams', 'UPDATE', ADMIN, osis('rhel-9', { a: 'b' }), osis('rhel-9')), []],
  ['osimagestream update setting a first default', R('osimagestreams', 'UPDATE', ADMIN, osis('rhel-9'), osis()), []],
  ['osimagestream status update', R('osimagestreams', 'UPDATE', MCO_OPERATOR, osis('rhel-10'), osis('rhel-9'), { subResource: 'status' }), []],
  ['osimagestream create', R('osimagestreams', 'CREATE', MCO_OPERATOR, osis('rhel-9'), null), []],
];

function celValue(v) {
  if (Array.isArray(v)) return v.map(celValue);
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, celValue(x)]));
  return v;
}

// Does one rule of a webhook match the request (group, version, resource
// without subresource unless the rule names it, operation)?
function ruleMatches(rule, q) {
  const res = q.subResource ? `${q.resource}/${q.subResource}` : q.resource;
  return (rule.apiGroups || []).includes(MCP_GROUP) && (rule.apiVersions || []).includes(q.version) &&
    (rule.resources || []).includes(res) && (rule.operations || []).includes(q.operation);
}

function checkMatchConditions(objs, hooks, errs) {
  const { run } = require('@bufbuild/cel');
  // The conditions skip the --exempt-namespace's service accounts: both must
  // name the same namespace, with the trailing colon (else a namespace that
  // merely starts with it would be skipped too).
  const dep = find(objs, 'Deployment')[0];
  const arg = ((dep && dep.spec.template.spec.containers[0].args) || []).find((a) => a.startsWith('--exempt-namespace='));
  const exempt = arg === undefined ? EXEMPT_NS : arg.slice('--exempt-namespace='.length);
  if (exempt !== EXEMPT_NS) errs.push(`Deployment: --exempt-namespace is ${JSON.stringify(exempt)}, but the matchConditions skip service accounts of ${EXEMPT_NS}`);
  // The delete-guard entry is registered for the guard: the flag must keep it on.
  const guardArg = ((dep && dep.spec.template.spec.containers[0].args) || []).find((a) => a.startsWith('--deny-osimagestream-delete'));
  if (guardArg !== undefined && guardArg !== '--deny-osimagestream-delete' && guardArg !== '--deny-osimagestream-delete=true') {
    errs.push(`Deployment: ${guardArg} turns off the deletion guard the delete-guard webhook entry is registered for`);
  }
  const all = [];
  for (const [kind, cfg] of Object.entries(hooks)) {
    for (const hook of cfg.webhooks || []) {
      all.push({ kind, cfg, hook });
      for (const cond of hook.matchConditions || []) {
        for (const m of String(cond.expression).matchAll(/system:serviceaccount:([^'"]*)/g)) {
          if (m[1] !== `${EXEMPT_NS}:`) errs.push(`${hook.name}: condition ${cond.name} names service accounts of ${JSON.stringify(m[1])}, expected '${EXEMPT_NS}:' (the Deployment's --exempt-namespace)`);
        }
      }
    }
  }
  for (const [what, q, expected, guard] of CEL_CASES) {
    const request = {
      uid: 'u', operation: q.operation, name: ((q.object || q.oldObject).metadata || {}).name,
      kind: { group: MCP_GROUP, version: q.version, kind: (q.object || q.oldObject).kind },
      resource: { group: MCP_GROUP, version: q.version, resource: q.resource },
      userInfo: q.user, dryRun: !!q.dryRun, ...(q.subResource ? { subResource: q.subResource } : {}),
    };
    const vars = {
      request: celValue(request),
      object: q.object === null ? null : celValue(q.object),
      oldObject: q.oldObject === null ? null : celValue(q.oldObject),
    };
    const called = [];
    for (const { cfg, hook } of all) {
      if (!(hook.rules || []).some((r) => ruleMatches(r, q))) continue;
      let ok = true;
      for (const cond of hook.matchConditions || []) {
        let r;
        try {
          r = run(cond.expression, vars);
        } catch (e) {
          r = e;
        }
        if (typeof r !== 'boolean') {
          errs.push(`cel: ${objName(cfg)} ${hook.name} condition ${cond.name} does not evaluate to a bool for '${what}': ${r && r.message ? r.message : r}`);
          ok = null;
          break;
        }
        ok = ok && r;
      }
      if (ok) called.push(hook);
      if (ok === null) called.push(null);
    }
    if (called.includes(null)) continue;
    const names = called.map((h) => h.name);
    for (const n of names) if (!expected.includes(n)) errs.push(`cel: ${n} is called for '${what}', expected not`);
    for (const n of expected) if (!names.includes(n)) errs.push(`cel: ${n} is skipped for '${what}', expected called`);
    if (guard && !called.some((h) => h.failurePolicy === 'Fail')) {
      errs.push(`deletion guard: '${what}' reaches no webhook with failurePolicy Fail (the guard is never exempt)`);
    }
  }
}

// Overlay-specific: where the certificate and the CA bundle come from.
function checkOverlay(objs, overlay, svc, hooks, errs) {
  const cfgs = Object.values(hooks);
  const monitors = find(objs, 'ServiceMonitor');
  if (overlay === 'base') {
    if (monitors.length) errs.push('base must not contain a ServiceMonitor (OpenShift overlay only)');
    if (find(objs, 'PrometheusRule').length) errs.push('base must not contain a PrometheusRule (OpenShift overlay only)');
    return;
  }
  if (OPENSHIFT.includes(overlay)) {
    const ns = find(objs, 'Namespace', NAMESPACE)[0];
    if (ns && (ns.metadata.labels || {})['openshift.io/cluster-monitoring'] !== 'true') {
      errs.push(`${objName(ns)}: needs openshift.io/cluster-monitoring: "true" (platform monitoring scrapes it)`);
    }
    checkAlerts(objs, errs);
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
      if (ep.path !== PATHS.metrics || ep.scheme !== 'https' || ep.port !== 'metrics') errs.push('ServiceMonitor must scrape https /metrics on port metrics');
      if (!ep.bearerTokenFile && !ep.authorization) errs.push('ServiceMonitor must send the scraper\'s bearer token (for --metrics-auth kubernetes)');
      if (ep.honorLabels !== true) errs.push('ServiceMonitor needs honorLabels: true (the webhook\'s endpoint label)');
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
    if (find(objs, 'PrometheusRule').length) errs.push('cert-manager overlay: PrometheusRule belongs to the OpenShift overlay');
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
  checkRbac(objs, overlay, errs);
  const d = checkDeployment(objs, overlay, errs, serveHelp);
  const svc = checkService(objs, d && d.dep, errs);
  checkPdb(objs, overlay, d && d.dep, errs);
  checkNetworkPolicies(objs, overlay, d && d.dep, errs);
  checkLabels(objs, errs);
  const hooks = checkWebhooks(objs, svc, errs);
  checkMatchConditions(objs, hooks, errs);
  checkOverlay(objs, overlay, svc, hooks, errs);
  return errs;
}

// ---- self-test: each way of breaking the manifests is caught --------------

function selfTest(rendered, reg) {
  const fakeHelp = ['listen', 'tls-cert-file', 'tls-private-key-file', 'tls-min-version', 'osimagestream-file',
    'kubeconfig', 'serviceaccount-dir', 'osimagestream-name', 'max-request-bytes', 'log-level', 'log-format',
    'shutdown-delay', 'tls-cipher-suites', 'metrics-listen', 'metrics-auth', 'cluster-state',
    'annotate-implicit-streams', 'deny-osimagestream-delete', 'exempt-namespace', 'help'].map((f) => `  --${f}`).join('\n');
  const get = (objs, kind) => find(objs, kind)[0];
  const podOf = (objs) => get(objs, 'Deployment').spec.template.spec;
  const named = (objs, kind, name) => find(objs, kind, name)[0];
  const netpol = (objs) => named(objs, 'NetworkPolicy', 'osstream-webhook');
  const ingressFor = (objs, portName) => netpol(objs).spec.ingress.find((r) => (r.ports || []).some((p) => p.port === portName));
  const alerts = (objs) => get(objs, 'PrometheusRule').spec.groups[0].rules;
  const vhook = (objs, prefix) => get(objs, 'ValidatingWebhookConfiguration').webhooks.find((h) => h.name.startsWith(prefix));
  const mutations = [
    ['unknown field', (o) => { podOf(o).containers[0].readinesProbe = {}; }, /unknown field .*readinesProbe/],
    ['wrong type', (o) => { get(o, 'Deployment').spec.replicas = '2'; }, /replicas must be integer/],
    ['wildcard verb', (o) => { get(o, 'ClusterRole').rules[0].verbs.push('*'); }, /wildcard/],
    ['extra verb', (o) => { named(o, 'ClusterRole', 'osstream-webhook').rules[0].verbs.push('update'); }, /granted more than it needs: .*osimagestreams\|update/],
    ['extra subject', (o) => { named(o, 'ClusterRoleBinding', 'osstream-webhook').subjects.push({ kind: 'ServiceAccount', name: 'x', namespace: 'y' }); }, /ServiceAccount:y\/x .* should get nothing/],
    ['no tokenreviews', (o) => { named(o, 'ClusterRole', 'osstream-webhook-metrics-auth').rules.shift(); }, /lacks authentication\.k8s\.io\|tokenreviews\|create/],
    ['unbound role', (o) => { o.splice(o.indexOf(named(o, 'ClusterRoleBinding', 'osstream-webhook-metrics-auth')), 1); }, /bound to nobody/],
    ['extra resource', (o) => { named(o, 'ClusterRole', 'osstream-webhook').rules[1].resources.push('secrets'); }, /granted more than it needs: .*\|secrets\|list/],
    ['any name', (o) => { delete named(o, 'ClusterRole', 'osstream-webhook').rules[0].resourceNames; }, /lacks .*osimagestreams\|get\|cluster/],
    ['named pools', (o) => { named(o, 'ClusterRole', 'osstream-webhook').rules[1].resourceNames = ['worker']; }, /listed cluster-wide/],
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
    ['replicas', (o) => { const d = get(o, 'Deployment'); d.spec.replicas = d.spec.replicas === 1 ? 2 : 1; }, /replicas must be [12]/],
    ['surge only', (o) => { get(o, 'Deployment').spec.strategy.rollingUpdate.maxUnavailable = 1; }, /maxUnavailable: 0/],
    ['no spread', (o) => { delete podOf(o).topologySpreadConstraints; delete podOf(o).affinity; }, /not spread/],
    ['priority', (o) => { delete podOf(o).priorityClassName; }, /system-cluster-critical/],
    ['limits', (o) => { delete podOf(o).containers[0].resources.limits; }, /limits\.memory missing/],
    ['cpu limit', (o) => { podOf(o).containers[0].resources.limits.cpu = '500m'; }, /limits\.cpu set/],
    ['small memory request', (o) => { podOf(o).containers[0].resources.requests.memory = '16Mi'; }, /below the measured peak/],
    ['small memory limit', (o) => { podOf(o).containers[0].resources.limits.memory = '64Mi'; }, /below CONTRACT\.md's 128 MiB/],
    ['termination message', (o) => { delete podOf(o).containers[0].terminationMessagePolicy; }, /FallbackToLogsOnError/],
    ['no metrics listener', (o) => { const c = podOf(o).containers[0]; c.args = c.args.filter((a) => !a.startsWith('--metrics-listen')); }, /--metrics-listen must end in :9443/],
    ['metrics auth', (o) => { const c = podOf(o).containers[0]; c.args = c.args.filter((a) => !a.startsWith('--metrics-auth')).concat('--metrics-auth=basic'); }, /--metrics-auth must be none or kubernetes/],
    ['service metrics port', (o) => { get(o, 'Service').spec.ports = get(o, 'Service').spec.ports.filter((p) => p.name !== 'metrics'); }, /port named metrics/],
    ['no default deny', (o) => { o.splice(o.indexOf(named(o, 'NetworkPolicy', 'default-deny')), 1); }, /no default-deny/],
    ['policy misses the pods', (o) => { netpol(o).spec.podSelector.matchLabels['app.kubernetes.io/component'] = 'other'; }, /no policy with Ingress rules selects/],
    ['ingress without ports', (o) => { delete ingressFor(o, 'https').ports; }, /ingress rule without ports/],
    ['metrics open to all', (o) => { delete ingressFor(o, 'metrics').from; }, /metrics port must admit only/],
    ['metrics from a pod selector', (o) => { ingressFor(o, 'metrics').from.push({ podSelector: {} }); }, /metrics port must admit only/],
    ['extra ingress port', (o) => { ingressFor(o, 'https').ports.push({ port: 22, protocol: 'TCP' }); }, /opens port 22/],
    ['egress without ports', (o) => { delete netpol(o).spec.egress[0].ports; }, /egress rule without ports/],
    ['egress to dns', (o) => { netpol(o).spec.egress[0].ports.push({ port: 53, protocol: 'UDP' }); }, /egress to port 53/],
    ['no egress', (o) => { delete netpol(o).spec.egress; }, /no policy with Egress rules/],
    ['common label', (o) => { delete get(o, 'Service').metadata.labels['app.kubernetes.io/part-of']; }, /Service\/osstream-webhook: common label app\.kubernetes\.io\/part-of/],
    ['service name', (o) => { get(o, 'Service').metadata.name = 'webhook'; }, /Service osstream-webhook\/osstream-webhook missing/],
    ['target port', (o) => { get(o, 'Service').spec.ports[0].targetPort = 8080; }, /targetPort https/],
    ['path', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].clientConfig.service.path = '/validating'; }, /path must be \/validate/],
    ['fail-open validate', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].failurePolicy = 'Ignore'; }, /failurePolicy must be Fail/],
    ['no conditions', (o) => { delete get(o, 'MutatingWebhookConfiguration').webhooks[0].matchConditions; }, /matchConditions missing/],
    ['long timeout', (o) => { get(o, 'MutatingWebhookConfiguration').webhooks[0].timeoutSeconds = 30; }, /timeoutSeconds must be short/],
    ['validating sees every update', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].matchConditions[1].expression = "request.operation == 'CREATE' || true"; }, /cel: .* is called for 'update keeping the stream'/],
    ['condition that errors', (o) => { get(o, 'ValidatingWebhookConfiguration').webhooks[0].matchConditions[1].expression = 'oldObject.spec.osImageStream != object.spec.osImageStream'; }, /cel: .* does not evaluate to a bool/],
    ['mutating misses annotations', (o) => { get(o, 'MutatingWebhookConfiguration').webhooks[0].matchConditions[0].expression = 'has(object.spec) && has(object.spec.osImageStream)'; }, /cel: .* is skipped for 'update removing the stream/],
    ['no machineconfigs entry', (o) => { const v = get(o, 'ValidatingWebhookConfiguration'); v.webhooks = v.webhooks.filter((h) => h !== vhook(o, 'machineconfigs.')); }, /webhook machineconfigs\.osimagestream\.machineconfiguration\.openshift\.io missing/],
    ['no machineconfig update', (o) => { vhook(o, 'machineconfigs.').rules[0].operations = ['CREATE']; }, /cel: machineconfigs\.\S+ is skipped for 'machineconfig update'/],
    ['no pools entry', (o) => { const v = get(o, 'ValidatingWebhookConfiguration'); v.webhooks = v.webhooks.filter((h) => h !== vhook(o, 'pools.')); }, /cel: pools\.\S+ is skipped for 'create of a custom pool inheriting the worker stream'/],
    ['pools with a subresource', (o) => { vhook(o, 'pools.').rules[0].resources = ['machineconfigpools', 'machineconfigpools/status']; }, /rules must be exactly machineconfigpools/],
    ['extra entry', (o) => { const v = get(o, 'ValidatingWebhookConfiguration'); v.webhooks.push({ ...JSON.parse(JSON.stringify(vhook(o, 'pools.'))), name: 'extra.example.com' }); }, /webhook extra\.example\.com is not part of the registration/],
    ['duplicate name', (o) => { vhook(o, 'pools.').name = vhook(o, 'validate.').name; }, /webhook names must be unique/],
    ['v1beta1 reviews', (o) => { vhook(o, 'machineconfigs.').admissionReviewVersions = ['v1', 'v1beta1']; }, /admissionReviewVersions must be \["v1"\]/],
    ['object selector', (o) => { vhook(o, 'machineconfigs.').objectSelector = { matchLabels: { a: 'b' } }; }, /objectSelector set/],
    ['generated machineconfigs sent', (o) => { vhook(o, 'machineconfigs.').matchConditions.shift(); }, /cel: machineconfigs\.\S+ is called for 'generated machineconfig by a user'/],
    ['MCO pool writes sent', (o) => { vhook(o, 'pools.').matchConditions.pop(); }, /cel: pools\.\S+ is called for 'MCO update on the default stream'/],
    ['exempt prefix without colon', (o) => { const c = vhook(o, 'machineconfigs.').matchConditions[1]; c.expression = c.expression.replace('operator:', 'operator'); }, /cel: machineconfigs\.\S+ is skipped for 'machineconfig of a look-alike namespace'/],
    ['guard turned off', (o) => { podOf(o).containers[0].args.push('--deny-osimagestream-delete=false'); }, /turns off the deletion guard/],
    ['exempt namespace drift', (o) => { const c = podOf(o).containers[0]; c.args = c.args.map((a) => (a.startsWith('--exempt-namespace=') ? '--exempt-namespace=openshift-other' : a)); }, /--exempt-namespace is "openshift-other"/],
    ['pool condition on CREATE reads oldObject', (o) => { vhook(o, 'pools.').matchConditions[0].expression = '!(oldObject.spec.osImageStream == object.spec.osImageStream)'; }, /cel: .*pools\.\S+ condition not-a-stream-change does not evaluate to a bool for 'create/],
    ['no delete guard', (o) => { const v = get(o, 'ValidatingWebhookConfiguration'); v.webhooks = v.webhooks.filter((h) => h !== vhook(o, 'delete-guard.')); }, /deletion guard: 'osimagestream delete' reaches no webhook with failurePolicy Fail/],
    ['delete guard without DELETE', (o) => { vhook(o, 'delete-guard.').rules[0].operations = ['UPDATE']; }, /deletion guard: 'osimagestream delete' reaches no/],
    ['delete guard v1 only', (o) => { vhook(o, 'delete-guard.').rules[0].apiVersions = ['v1']; }, /deletion guard: 'osimagestream delete in v1alpha1' reaches no/],
    ['delete guard exempts the MCO', (o) => { vhook(o, 'delete-guard.').matchConditions = [JSON.parse(JSON.stringify(vhook(o, 'machineconfigs.').matchConditions[1]))]; }, /deletion guard: 'osimagestream delete by the MCO' reaches no/],
    ['delete guard fails open', (o) => { vhook(o, 'delete-guard.').failurePolicy = 'Ignore'; }, /deletion guard: 'osimagestream delete' reaches no webhook with failurePolicy Fail/],
    ['default stream every update', (o) => { vhook(o, 'default-stream.').matchConditions.shift(); }, /cel: default-stream\.\S+ is called for 'osimagestream update of labels'/],
    ['default stream without v1alpha1', (o) => { vhook(o, 'default-stream.').rules[0].apiVersions = ['v1']; }, /cel: default-stream\.\S+ is skipped for 'osimagestream default stream change in v1alpha1'/],
    ['slow fail-open entry', (o) => { vhook(o, 'machineconfigs.').timeoutSeconds = 10; }, /timeoutSeconds of a failurePolicy Ignore entry/],
    ['machineconfigs fail closed', (o) => { vhook(o, 'machineconfigs.').failurePolicy = 'Fail'; }, /machineconfigs\.\S+: failurePolicy must be Ignore/],
    ['unknown kind', (o) => { o.push({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } }); }, /no schema for example.com\/v1\/Thing/],
  ];
  const openshiftCases = [
    ['no serving cert', (o) => { delete get(o, 'Service').metadata.annotations; }, /serving-cert-secret-name/],
    ['no ca injection', (o) => { delete get(o, 'MutatingWebhookConfiguration').metadata.annotations; }, /inject-cabundle/],
    ['metrics path', (o) => { get(o, 'ServiceMonitor').spec.endpoints[0].path = '/stats'; }, /\/metrics/],
    ['monitor port', (o) => { get(o, 'ServiceMonitor').spec.endpoints[0].port = 'https'; }, /on port metrics/],
    ['monitor token', (o) => { delete get(o, 'ServiceMonitor').spec.endpoints[0].bearerTokenFile; }, /bearer token/],
    ['monitor labels', (o) => { delete get(o, 'ServiceMonitor').spec.endpoints[0].honorLabels; }, /honorLabels/],
    ['metrics auth off', (o) => { const c = podOf(o).containers[0]; c.args = c.args.filter((a) => !a.startsWith('--metrics-auth')); }, /--metrics-auth must be kubernetes on OpenShift/],
    ['metrics auth none', (o) => { const c = podOf(o).containers[0]; c.args = c.args.map((a) => (a.startsWith('--metrics-auth') ? '--metrics-auth=none' : a)); }, /--metrics-auth must be kubernetes on OpenShift .*got none/],
    ['no cluster monitoring', (o) => { delete get(o, 'Namespace').metadata.labels['openshift.io/cluster-monitoring']; }, /cluster-monitoring/],
    ['no metrics reader', (o) => { named(o, 'ClusterRole', 'osstream-webhook-metrics-reader').rules[0].verbs = ['list']; }, /prometheus-k8s lacks url\|\/metrics\|get/],
    ['no control plane', (o) => { delete podOf(o).nodeSelector; }, /control-plane nodes: nodeSelector/],
    ['no toleration', (o) => { podOf(o).tolerations = podOf(o).tolerations.filter((t) => t.key !== 'node-role.kubernetes.io/master'); }, /toleration of node-role\.kubernetes\.io\/master/],
    ['admission from all', (o) => { delete ingressFor(o, 'https').from; }, /admit only host-network/],
    ['metrics from elsewhere', (o) => { ingressFor(o, 'metrics').from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'] = 'monitoring'; }, /only namespace openshift-monitoring/],
    ['alert missing', (o) => { const r = alerts(o); r.splice(r.findIndex((a) => a.alert === 'OSStreamWebhookCallsFailing'), 1); }, /alert OSStreamWebhookCallsFailing missing/],
    ['runbook', (o) => { alerts(o)[0].annotations.runbook_url = 'https://example.com'; }, /runbook_url must point/],
    ['severity', (o) => { delete alerts(o)[0].labels; }, /has no severity/],
    ['alert misses an entry', (o) => { const a = alerts(o).find((x) => x.alert === 'OSStreamWebhookCallsFailing'); a.expr = a.expr.replace('|delete-guard', ''); }, /CallsFailing misses webhook delete-guard\./],
    ['alert selects a Fail entry', (o) => { const a = alerts(o).find((x) => x.alert === 'OSStreamWebhookFailingOpen'); a.expr = a.expr.replace('(mutate|', '(validate|mutate|'); }, /FailingOpen selects webhook validate\./],
  ];
  const pdbCase = ['pdb', (o) => { get(o, 'PodDisruptionBudget').spec.minAvailable = 2; }, /minAvailable must be 1/];
  const authOnCase = ['metrics auth on', (o) => { podOf(o).containers[0].args.push('--metrics-auth=kubernetes'); }, /--metrics-auth must stay none/];
  const perOverlay = {
    base: [pdbCase, authOnCase,
      ['placement in base', (o) => { podOf(o).nodeSelector = { 'node-role.kubernetes.io/master': '' }; }, /belongs to the OpenShift overlays/],
      ['rule in base', (o) => { o.push({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'r', namespace: NAMESPACE, labels: COMMON_LABELS }, spec: { groups: [] } }); }, /must not contain a PrometheusRule/],['monitor in base', (o) => { o.push({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm', namespace: NAMESPACE }, spec: { selector: {}, endpoints: [] } }); }, /must not contain a ServiceMonitor/]],
    openshift: [pdbCase, ...openshiftCases],
    'openshift-single-node': [...openshiftCases,
      ['pdb on one node', (o) => { o.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p', namespace: NAMESPACE, labels: COMMON_LABELS }, spec: { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'osstream-webhook' } } } }); }, /blocks the MCO's drain/]],
    'cert-manager': [pdbCase, authOnCase,
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
// does, one `key<TAB>value` line each (args one per line as `arg<TAB>...`;
// the RBAC, for its API server double, as `grant<TAB>SUBJECT<TAB>ATOM`).
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
    ['metrics_port_name', monitor ? monitor.spec.endpoints[0].port : 'metrics'],
    ['grace_seconds', String(dep.spec.template.spec.terminationGracePeriodSeconds)],
    // One line per registered webhook: name, path, resource, versions, operations.
    ...['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].flatMap((kind) =>
      find(objs, kind).flatMap((cfg) => (cfg.webhooks || []).flatMap((h) => (h.rules || []).map((r) =>
        ['webhook', [h.name, h.clientConfig.service.path, (r.resources || []).join(','), (r.apiVersions || []).join(','),
          (r.operations || []).join(',')].join('\t')])))),
    ...(c.args || []).map((a) => ['arg', a]),
    ...[...grantsOf(objs, [])].flatMap(([subj, atoms]) => [...atoms].sort().map((a) => ['grant', `${subj}\t${a}`])),
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
    else if (argv[i] === '--rules') {
      // promtool reads the rule file format, and JSON is YAML.
      const rule = find(parseDocs(fs.readFileSync(argv[++i], 'utf8')), 'PrometheusRule')[0];
      if (!rule) {
        console.error('check_manifests: no PrometheusRule in the rendered manifests');
        return 1;
      }
      process.stdout.write(JSON.stringify({ groups: rule.spec.groups }, null, 2) + '\n');
      return 0;
    } else if (argv[i] === '--facts') {
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
