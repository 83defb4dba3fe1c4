# SPDX-License-Identifier: Apache-2.0
"""The cluster side of test_manifests_serve.sh: the kube-apiserver double
(tests/integration/kubeapi.py) standing in for the API server a pod talks to,
with authentication and RBAC as the rendered manifests set them up.

- The OSImageStream (and any other --object) is served for list + watch.
- Every service account named by --as or --token gets a token of its own;
  the double accepts only the webhook's (--as) for its API requests, as the
  API server accepts a pod's mounted token.
- --serviceaccount-dir gets `token` (the webhook's) and `ca.crt` (the
  double's CA): what kubelet mounts at
  /var/run/secrets/kubernetes.io/serviceaccount.
- TokenReviews name the service account a token belongs to
  (system:serviceaccount:NS:NAME, groups system:serviceaccounts,
  system:serviceaccounts:NS, system:authenticated); an unknown token is not
  authenticated.
- SubjectAccessReviews are decided by the RBAC of the rendered manifests
  (--grants: "SUBJECT<TAB>ATOM" lines from check_manifests.js --facts, e.g.
  "ServiceAccount:openshift-monitoring/prometheus-k8s<TAB>url|/metrics|get|").
  Creating either review needs the caller's own grant of `create`, as in the
  cluster; without it the answer is 403. A Role's grants count as if
  cluster-wide: the only review the webhook asks about is `get` on the
  non-resource URL /metrics, which only a ClusterRole can grant.

Prints one JSON line ({"port", "pid"}) once it listens, then serves until
SIGTERM or SIGINT, or until the process that started it is gone.
"""

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import kubeapi  # noqa: E402

TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SARS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
SA_PREFIX = "system:serviceaccount:"


def sa_subject(ns_name):
    """'ns/name' -> the RBAC subject key check_manifests.js uses."""
    return "ServiceAccount:" + ns_name


def user_of(ns_name):
    ns, name = ns_name.split("/", 1)
    return {"username": "%s%s:%s" % (SA_PREFIX, ns, name), "uid": "uid-sa-%s-%s" % (ns, name),
            "groups": ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                       "system:authenticated"]}


class Cluster:
    def __init__(self, api, webhook_sa, tokens, grants, log):
        self.api = api
        self.webhook_sa = webhook_sa
        self.tokens = tokens  # token -> "ns/name"
        self.grants = grants  # subject -> set of atoms
        self.log = log

    def allowed(self, subject, atom):
        return atom in self.grants.get(subject, set())

    def _caller_may_create(self, group, resource):
        # The double let the request through only with the webhook's token.
        return self.allowed(sa_subject(self.webhook_sa), "%s|%s|create|" % (group, resource))

    def _forbidden(self, group, resource):
        user = user_of(self.webhook_sa)["username"]
        msg = '%s is forbidden: User "%s" cannot create resource "%s" in API group "%s" at the cluster scope' % (
            resource, user, resource, group)
        self.log("403 create %s for %s (not granted by the rendered RBAC)" % (resource, user))
        return 403, kubeapi.status_object(403, "Forbidden", msg)

    def token_review(self, record, body):
        if not self._caller_may_create("authentication.k8s.io", "tokenreviews"):
            return self._forbidden("authentication.k8s.io", "tokenreviews")
        req = json.loads(body)
        sa = self.tokens.get((req.get("spec") or {}).get("token"))
        if sa is None:
            status = {"authenticated": False, "error": "[invalid bearer token, token lookup failed]"}
            self.log("TokenReview: unknown token, not authenticated")
        else:
            status = {"authenticated": True, "user": user_of(sa), "audiences": ["https://kubernetes.default.svc"]}
            self.log("TokenReview: authenticated %s" % status["user"]["username"])
        return 201, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                     "metadata": {"creationTimestamp": None}, "spec": req.get("spec"), "status": status}

    def access_review(self, record, body):
        if not self._caller_may_create("authorization.k8s.io", "subjectaccessreviews"):
            return self._forbidden("authorization.k8s.io", "subjectaccessreviews")
        req = json.loads(body)
        spec = req.get("spec") or {}
        user = spec.get("user") or ""
        nra = spec.get("nonResourceAttributes")
        ra = spec.get("resourceAttributes")
        atom = None
        if nra:
            atom = "url|%s|%s|" % (nra.get("path"), nra.get("verb"))
        elif ra:
            atom = "%s|%s|%s|%s" % (ra.get("group", ""), ra.get("resource"), ra.get("verb"), ra.get("name", ""))
        subject = sa_subject(user[len(SA_PREFIX):].replace(":", "/", 1)) if user.startswith(SA_PREFIX) else "User:" + user
        ok = atom is not None and self.allowed(subject, atom)
        status = {"allowed": ok}
        if ok:
            status["reason"] = "RBAC: allowed by the rendered manifests"
        self.log("SubjectAccessReview: %s %s: %s" % (user, atom, "allowed" if ok else "denied"))
        return 201, {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                     "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certdir", required=True,
                   help="the double's ca.crt, tls.crt, tls.key (made here with `osstream-webhook gen-certs` when missing)")
    p.add_argument("--serviceaccount-dir", required=True,
                   help="where to write the webhook's `token` and the double's CA as `ca.crt`")
    p.add_argument("--as", dest="webhook_sa", default="osstream-webhook/osstream-webhook", metavar="NS/NAME",
                   help="the webhook's service account (its token goes into --serviceaccount-dir)")
    p.add_argument("--token", action="append", default=[], metavar="NS/NAME=FILE",
                   help="mint a token for another service account (a scraper) and write it to FILE")
    p.add_argument("--grants", required=True, help="SUBJECT<TAB>ATOM lines (check_manifests.js --facts)")
    p.add_argument("--object", action="append", default=[], metavar="RESOURCE=FILE",
                   help="load a JSON object into the store (osimagestreams=osimagestream.json)")
    p.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds whatever happens")
    args = p.parse_args(argv)

    def log(msg):
        sys.stderr.write("kubeapi_cluster: %s\n" % msg)
        sys.stderr.flush()

    if not os.path.exists(os.path.join(args.certdir, "tls.crt")):
        os.makedirs(args.certdir, exist_ok=True)
        kubeapi.make_certs(args.certdir)

    grants = {}
    with open(args.grants) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                subject, atom = line.split("\t", 1)
                grants.setdefault(subject, set()).add(atom)

    tokens = {}
    webhook_token = "sa-" + secrets.token_urlsafe(24)
    tokens[webhook_token] = args.webhook_sa
    os.makedirs(args.serviceaccount_dir, exist_ok=True)
    with open(os.path.join(args.serviceaccount_dir, "token"), "w") as f:
        f.write(webhook_token)
    with open(os.path.join(args.certdir, "ca.crt"), "rb") as src, \
            open(os.path.join(args.serviceaccount_dir, "ca.crt"), "wb") as dst:
        dst.write(src.read())
    for spec in args.token:
        sa, _, path = spec.partition("=")
        if "/" not in sa or not path:
            p.error("--token wants NS/NAME=FILE, got %r" % spec)
        t = "sa-" + secrets.token_urlsafe(24)
        tokens[t] = sa
        with open(path, "w") as f:
            f.write(t)

    api = kubeapi.KubeAPI(token=webhook_token, certdir=args.certdir)
    for spec in args.object:
        res, _, path = spec.partition("=")
        with open(path) as f:
            api.set_object(res, json.load(f))
    cluster = Cluster(api, args.webhook_sa, tokens, grants, log)
    api.on_post(TOKENREVIEWS, cluster.token_review)
    api.on_post(SARS, cluster.access_review)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    api.start()
    print(json.dumps({"port": api.port, "pid": os.getpid()}), flush=True)
    deadline = time.monotonic() + args.lifetime
    try:
        # Never outlive the test that started it (reparented: it is gone).
        while not stop.wait(0.2):
            if os.getppid() != parent:
                log("parent %d is gone, stopping" % parent)
                break
            if time.monotonic() > deadline:
                log("lifetime of %.0f s is over, stopping" % args.lifetime)
                break
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
