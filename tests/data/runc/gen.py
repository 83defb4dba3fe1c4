#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the runc-guard MachineConfig fixtures of this directory.

Each fixture is a MachineConfig as the API server serves it, with Ignition
file entries encoded the way the MCO and administrators encode them (base64
and percent-encoded data URLs, gzip). Run it again after changing a
fixture's recipe; the output is deterministic (gzip mtime 0).
"""
import base64
import gzip
import json
import os
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = "/etc/crio/crio.conf.d/"
GEN = {"machineconfiguration.openshift.io/generated-by-controller-version": "4.20.0-abc"}

CRIO_DEFAULT = """[crio]
internal_wipe = true
internal_repair = true

[crio.api]
stream_address = "127.0.0.1"
stream_port = "0"

[crio.runtime]
selinux = true
conmon = ""
conmon_cgroup = "pod"
default_env = [
    "NSS_SDB_USE_CACHE=no",
]
default_runtime = "crun"
log_level = "info"
cgroup_manager = "systemd"
default_sysctls = [
    "net.ipv4.ping_group_range=0 2147483647",
]
hooks_dir = [
    "/etc/containers/oci/hooks.d",
    "/run/containers/oci/hooks.d",
    "/usr/share/containers/oci/hooks.d",
]
manage_ns_lifecycle = true
absent_mount_sources_to_reject = [
    "/etc/hostname",
]
drop_infra_ctr = true

[crio.runtime.runtimes.runc]
runtime_root = "/run/runc"
allowed_annotations = [
    "io.containers.trace-syscall",
]

[crio.runtime.runtimes.crun]
runtime_root = "/run/crun"
allowed_annotations = [
    "io.containers.trace-syscall",
]

[crio.runtime.workloads.openshift-builder]
activation_annotation = "io.openshift.builder"
allowed_annotations = [
  "io.kubernetes.cri-o.userns-mode",
  "io.kubernetes.cri-o.Devices"
]

[crio.image]
global_auth_file = "/var/lib/kubelet/config.json"
pause_image = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
pause_image_auth_file = "/var/lib/kubelet/config.json"
pause_command = "/usr/bin/pod"

[crio.network]
network_dir = "/etc/kubernetes/cni/net.d/"
plugin_dirs = [
    "/var/lib/cni/bin",
    "/usr/libexec/cni",
]

[crio.metrics]
enable_metrics = true
metrics_host = "127.0.0.1"
metrics_port = 9537
"""

CTRCFG_RUNC = """[crio]
  [crio.runtime]
    default_runtime = "runc"
"""

USER_RUNC = """[crio.runtime]
default_runtime = "runc"

[crio.runtime.runtimes.runc]
runtime_root = "/run/runc"
"""

USER_CRUN = """# switch back to crun
[crio.runtime]
default_runtime = "crun"
"""


def b64(text):
    return "data:text/plain;charset=utf-8;base64," + base64.b64encode(text.encode()).decode()


def pct(text):
    return "data:," + urllib.parse.quote(text, safe="")


def gz_b64(text):
    return "data:;base64," + base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


def ign3(path, source, compression=None, mode=420):
    contents = {"source": source}
    if compression is not None:
        contents["compression"] = compression
    return {"contents": contents, "mode": mode, "overwrite": True, "path": path}


def mc(name, role, files, generated=False, version="3.4.0", extra_spec=None):
    meta = {
        "name": name,
        "labels": {"machineconfiguration.openshift.io/role": role},
        "resourceVersion": "12345",
        "uid": "6b1d0c56-0000-4000-8000-" + ("%012x" % zlib.crc32(name.encode())),
    }
    if generated:
        meta["annotations"] = dict(GEN)
    spec = {"config": {"ignition": {"version": version}, "storage": {"files": files}}}
    if extra_spec:
        spec.update(extra_spec)
    return {
        "apiVersion": "machineconfiguration.openshift.io/v1",
        "kind": "MachineConfig",
        "metadata": meta,
        "spec": spec,
    }


FIXTURES = {
    # The MCO's template: 00-default with crun (generated).
    "01-worker-container-runtime": mc(
        "01-worker-container-runtime",
        "worker",
        [
            ign3(DIR + "00-default", b64(CRIO_DEFAULT), ""),
            ign3("/etc/containers/policy.json", b64("{}"), ""),
        ],
        generated=True,
    ),
    # A ContainerRuntimeConfig with defaultRuntime: runc (generated).
    "99-worker-generated-containerruntime": mc(
        "99-worker-generated-containerruntime",
        "worker",
        [ign3(DIR + "01-ctrcfg-defaultRuntime", b64(CTRCFG_RUNC))],
        generated=True,
    ),
    # An administrator's runc MachineConfig, percent-encoded.
    "99-worker-runc": mc(
        "99-worker-runc", "worker", [ign3(DIR + "99-runc.conf", pct(USER_RUNC), mode=0o644)]
    ),
    # The same, gzip-compressed (as butane writes large files).
    "99-worker-runc-gzip": mc(
        "99-worker-runc-gzip",
        "worker",
        [ign3(DIR + "99-runc-gz.conf", gz_b64(USER_RUNC), "gzip")],
    ),
    # crun at a path later in byte order than 99-runc.conf.
    "99-worker-zz-crun": mc(
        "99-worker-zz-crun", "worker", [ign3(DIR + "99-zz-crun.conf", b64(USER_CRUN))]
    ),
    # A drop-in the webhook cannot decode (a remote source).
    "99-worker-remote-dropin": mc(
        "99-worker-remote-dropin",
        "worker",
        [ign3(DIR + "50-remote.conf", "https://example.com/50-remote.conf")],
    ),
    # Ignition 2.x: an append (not a drop-in) and a plain 2.x file.
    "99-worker-ign2": mc(
        "99-worker-ign2",
        "worker",
        [
            {
                "filesystem": "root",
                "path": DIR + "10-append.conf",
                "append": True,
                "contents": {"source": pct(USER_RUNC)},
                "mode": 420,
            },
            {
                "filesystem": "root",
                "path": DIR + "10-ign2.conf",
                "contents": {"source": pct(USER_CRUN), "verification": {}},
                "mode": 420,
            },
        ],
        version="2.2.0",
    ),
    # No drop-ins at all: other files, a directory entry, a source-less file.
    "99-worker-no-dropins": mc(
        "99-worker-no-dropins",
        "worker",
        [
            ign3("/etc/chrony.conf", b64("server 10.0.0.1 iburst\n")),
            ign3("/etc/crio/crio.conf.d", b64("[crio.runtime]\ndefault_runtime = 'runc'\n")),
            {"path": DIR + "00-empty-entry", "mode": 420},
        ],
    ),
    # Undecodable as a whole: files is not a list.
    "99-worker-bad-files": {
        "apiVersion": "machineconfiguration.openshift.io/v1",
        "kind": "MachineConfig",
        "metadata": {"name": "99-worker-bad-files",
                     "labels": {"machineconfiguration.openshift.io/role": "worker"}},
        "spec": {"config": {"ignition": {"version": "3.4.0"}, "storage": {"files": {}}}},
    },
    # Empty file under the directory: sets nothing.
    "99-worker-empty-dropin": mc(
        "99-worker-empty-dropin", "worker", [ign3(DIR + "99-runc.conf", "data:,")]
    ),
}

for name, obj in FIXTURES.items():
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")
