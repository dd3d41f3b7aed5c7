#!/usr/bin/env python3
# inspect_layout.py: describes an image copied by `skopeo copy --all` to
# an OCI layout, one line per platform, for the tests to compare.
# SPDX-License-Identifier: MIT
#
#   inspect_layout.py LAYOUT BINDIR IMAGE [CA_BUNDLE]
#
# For each platform of the index: its os/arch[/variant], the number of
# layers, and the entries of the last layer (and of the CA layer of a
# scratch image): name, mode, uid/gid, mtime, and whether the bytes equal
# BINDIR/IMAGE-<os>-<arch>-prod (same) or CA_BUNDLE (ca); the root
# fixture's etc/os-release shows as root=<its platform>.
# Also the config's Entrypoint, Cmd, ExposedPorts and some labels.
import hashlib
import json
import os
import sys
import tarfile


def blob(root, digest):
    return os.path.join(root, "blobs", "sha256", digest.split(":", 1)[1])


def load(root, digest):
    with open(blob(root, digest), "rb") as f:
        data = f.read()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        sys.exit("digest mismatch for " + digest)
    return json.loads(data)


def entries(root, desc, expect):
    out = []
    with tarfile.open(blob(root, desc["digest"])) as t:
        for m in t.getmembers():
            what = "dir" if m.isdir() else "?"
            if m.isfile():
                data = t.extractfile(m).read()
                what = "differs"
                if m.name == "etc/os-release":
                    # the root fixture's layer names its platform
                    what = "root=" + data.decode().split("PLATFORM=")[1] \
                        .strip()
                for label, path in expect:
                    try:
                        with open(path, "rb") as f:
                            if f.read() == data:
                                what = label
                                break
                    except FileNotFoundError:
                        pass
            out.append("%s:%o:%d/%d:%d:%s" % (m.name, m.mode, m.uid, m.gid,
                                             m.mtime, what))
    return " ".join(out)


def main():
    root, bindir, image = sys.argv[1:4]
    ca = sys.argv[4] if len(sys.argv) > 4 else \
        "/etc/ssl/certs/ca-certificates.crt"
    idx = json.load(open(os.path.join(root, "index.json")))
    top = load(root, idx["manifests"][0]["digest"])
    for d in top["manifests"]:
        p = d["platform"]
        plat = "%s/%s" % (p["os"], p["architecture"])
        if p.get("variant"):
            plat += "/" + p["variant"]
        m = load(root, d["digest"])
        cfg = load(root, m["config"]["digest"])
        if (cfg["os"], cfg["architecture"], cfg.get("variant")) != \
                (p["os"], p["architecture"], p.get("variant")):
            plat += " CONFIG-MISMATCH"
        if len(m["layers"]) != len(cfg["rootfs"]["diff_ids"]):
            plat += " DIFFIDS-MISMATCH"
        binary = os.path.join(bindir, "%s-%s-%s-prod" %
                              (image, p["os"], p["architecture"]))
        expect = [("same", binary),
                  ("ca", ca)]
        c = cfg.get("config", {})
        labels = c.get("Labels") or {}
        print("%s layers=%d %s | entry=%s cmd=%s ports=%s title=%s "
              "version=%s" % (
                  plat, len(m["layers"]),
                  " + ".join(entries(root, l, expect)
                             for l in m["layers"][-2:]),
                  ",".join(c.get("Entrypoint") or []),
                  ",".join(c.get("Cmd") or []) or "-",
                  ",".join(sorted(c.get("ExposedPorts") or {})) or "-",
                  labels.get("org.opencontainers.image.title", "-"),
                  labels.get("org.opencontainers.image.version", "-")))


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        # the reader (head) had enough
        sys.exit(0)
