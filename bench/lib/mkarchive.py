#!/usr/bin/env python3
"""Writes a docker-archive (docker save format) of LAYERS layers of MIB MiB each of
incompressible data, tagged TAG: the image the save/load workload moves. Every engine can
load it; nothing here depends on Berth."""
import hashlib
import io
import json
import os
import sys
import tarfile


def layer_tar(index: int, mib: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = os.urandom(mib << 20)
        info = tarfile.TarInfo(f"layer{index}/data.bin")
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def main() -> None:
    out, layers, mib, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    diff_ids, paths = [], []
    with tarfile.open(out, "w") as archive:
        for i in range(layers):
            blob = layer_tar(i, mib)
            digest = hashlib.sha256(blob).hexdigest()
            diff_ids.append("sha256:" + digest)
            paths.append(f"{digest}/layer.tar")
            add(archive, paths[-1], blob)
        config = json.dumps({
            "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"} for i in range(layers)],
        }, separators=(",", ":")).encode()
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        add(archive, config_name, config)
        add(archive, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": paths}]).encode())


if __name__ == "__main__":
    main()
