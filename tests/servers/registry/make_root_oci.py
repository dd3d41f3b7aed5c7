#!/usr/bin/env python3
# make_root_oci.py: writes a tiny multi-platform root image ("alpine"
# stand-in) as an OCI image layout, for skopeo to push to a test registry.
# SPDX-License-Identifier: MIT
#
#   make_root_oci.py DIR TAG [PLATFORM...]
#
# PLATFORM is os/arch[/variant]; the default set mirrors alpine's index,
# including linux/arm/v6 next to linux/arm/v7 and linux/arm64/v8.
# (skopeo copy --format v2s2 turns it into Docker schema 2 types.)
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

DEFAULT = ["linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64/v8",
           "linux/386", "linux/ppc64le", "linux/s390x"]


def blob(root, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, content in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size = len(content)
            ti.mode = 0o644
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(content))
    tar = raw.getvalue()
    return gzip.compress(tar, mtime=0), "sha256:" + hashlib.sha256(tar) \
        .hexdigest()


def main():
    args = sys.argv[1:]
    root, tag, plats = args[0], args[1], args[2:] or DEFAULT
    mt = {
        "index": "application/vnd.oci.image.index.v1+json",
        "manifest": "application/vnd.oci.image.manifest.v1+json",
        "config": "application/vnd.oci.image.config.v1+json",
        "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
    }
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    manifests = []
    for p in plats:
        parts = p.split("/")
        os_, arch = parts[0], parts[1]
        variant = parts[2] if len(parts) > 2 else None
        gz, diff = layer({"etc/os-release": ("ID=fixture\nPLATFORM=%s\n" % p)
                          .encode(), "bin/sh": b"#!fixture\n"})
        ld, ls = blob(root, gz)
        cfg = {"architecture": arch, "os": os_,
               "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:"
                                  "/usr/sbin:/usr/bin:/sbin:/bin"],
                          "Cmd": ["/bin/sh"]},
               "created": "2024-01-01T00:00:00Z",
               "history": [{"created": "2024-01-01T00:00:00Z",
                            "created_by": "fixture rootfs " + p}],
               "rootfs": {"type": "layers", "diff_ids": [diff]}}
        if variant:
            cfg["variant"] = variant
        cd, cs = blob(root, json.dumps(cfg).encode())
        man = {"schemaVersion": 2, "mediaType": mt["manifest"],
               "config": {"mediaType": mt["config"], "digest": cd,
                          "size": cs},
               "layers": [{"mediaType": mt["layer"], "digest": ld,
                           "size": ls}]}
        md, ms = blob(root, json.dumps(man).encode())
        plat = {"architecture": arch, "os": os_}
        if variant:
            plat["variant"] = variant
        manifests.append({"mediaType": mt["manifest"], "digest": md,
                          "size": ms, "platform": plat})
    idx = {"schemaVersion": 2, "mediaType": mt["index"],
           "manifests": manifests}
    xd, xs = blob(root, json.dumps(idx).encode())
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": mt["index"], "digest": xd, "size": xs,
             "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)


if __name__ == "__main__":
    main()
