"""Reads a NIR file the way the reference reader does (nir/serialization.py + the node dataclasses),
checks its structure, infers and checks every edge's shape, and runs a NumPy forward pass.

usage: check_nir.py network.nir images.npy   (images: uint8 (N, H, W, C), the dataset's HWC bytes)
prints JSON: {"errors": [...], "predictions": [...], "nodes": {...}}
"""
import json
import sys

import h5py
import numpy as np

# Fields of each node's dataclass (neuromorphs/NIR nir/ir/*.py), as written by NIRNode.to_dict:
# the reader passes every dataset to the constructor, so the set must match exactly.
FIELDS = {
    "Input": {"shape"},
    "Output": {"shape"},
    "Affine": {"weight", "bias"},
    "Linear": {"weight"},
    "Conv2d": {"input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"},
    "Flatten": {"input_type", "start_dim", "end_dim"},
    "SumPool2d": {"kernel_size", "stride", "padding"},
    "Threshold": {"threshold"},
    "IF": {"r", "v_threshold", "v_reset"},
}
errors = []


def text(d):
    v = d[()]
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def conv_out(n, pad, dil, k, stride):
    # nir/ir/utils.py calculate_conv_output, with the kernel height for both axes as nir/ir/conv.py passes it
    return [int(np.floor((n[i] + 2 * pad[i] - dil[i] * (k - 1) - 1) / stride[i] + 1)) for i in range(2)]


def main():
    path, images_path = sys.argv[1], sys.argv[2]
    f = h5py.File(path, "r")
    if set(f.keys()) != {"version", "node"}:
        errors.append("top level keys %s" % sorted(f.keys()))
    if f["version"].shape != () or not h5py.check_string_dtype(f["version"].dtype):
        errors.append("version is not a scalar string")
    g = f["node"]
    if text(g["type"]) != "NIRGraph":
        errors.append("node/type is not NIRGraph")
    if set(g.keys()) - {"type", "nodes", "edges", "metadata"}:
        errors.append("graph has extra keys %s" % sorted(g.keys()))
    edges_ds = g["edges"]
    if edges_ds.ndim != 2 or edges_ds.shape[1] != 2 or not h5py.check_string_dtype(edges_ds.dtype):
        errors.append("edges must be strings of shape (N, 2)")
    edges = [(a.decode("utf8"), b.decode("utf8")) for a, b in edges_ds[()]]
    nodes = {}
    for name, node in g["nodes"].items():
        t = text(node["type"])
        if node["type"].shape != ():
            errors.append("%s: type is not scalar" % name)
        fields = set(node.keys()) - {"type"}
        if t not in FIELDS:
            errors.append("%s: unknown type %s" % (name, t))
            continue
        if fields != FIELDS[t]:
            errors.append("%s (%s): fields %s, the reader needs exactly %s" % (name, t, sorted(fields), sorted(FIELDS[t])))
        nodes[name] = (t, {k: node[k][()] for k in fields})

    # Types, as the dataclasses' __post_init__ define them; SumPool2d's input comes from its source.
    def io_types(name, incoming):
        t, p = nodes[name]
        if t == "Input":
            return list(p["shape"]), list(p["shape"])
        if t == "Output":
            return list(p["shape"]), list(p["shape"])
        if t == "Affine":
            return [p["weight"].shape[1]], [p["weight"].shape[0]]
        if t == "Conv2d":
            out = conv_out(p["input_shape"], p["padding"], p["dilation"], p["weight"].shape[2], p["stride"])
            return [p["weight"].shape[1], *p["input_shape"]], [p["weight"].shape[0], *out]
        if t == "Flatten":
            return list(p["input_type"]), [int(np.prod(p["input_type"]))]
        if t == "SumPool2d":
            out = conv_out(incoming[1:], p["padding"], [1, 1], p["kernel_size"][0], p["stride"])
            return list(incoming), [incoming[0], *out]
        if t == "Threshold":
            return list(p["threshold"].shape), list(p["threshold"].shape)
        if t == "IF":
            shapes = {p["r"].shape, p["v_threshold"].shape, p["v_reset"].shape}
            if len(shapes) != 1:
                errors.append("%s: IF parameters differ in shape" % name)
            return list(p["r"].shape), list(p["r"].shape)

    order = ["input"]
    while len(order) < len(nodes):
        nxt = [b for a, b in edges if a == order[-1]]
        if len(nxt) != 1:
            errors.append("graph is not a chain after %s" % order[-1])
            break
        order.append(nxt[0])
    out_type = None
    for name in order:
        in_t, o_t = io_types(name, out_type)
        if out_type is not None and [int(v) for v in in_t] != [int(v) for v in out_type]:
            errors.append("type mismatch into %s: %s -> %s" % (name, out_type, in_t))
        out_type = o_t

    meta = g["metadata"]
    key = meta["readout_key"][()]
    encoding = text(meta["input_encoding"])
    images = np.load(images_path)
    x0 = images.astype(np.float32) / np.float32(255)
    if encoding == "binary":
        x0 = (x0 >= np.float32(meta["input_threshold"][()])).astype(np.float64)
    x0 = x0.transpose(0, 3, 1, 2).astype(np.float64)  # NHWC -> NCHW

    predictions = []
    for x in x0:
        for name in order:
            t, p = nodes[name]
            if t == "Affine":
                x = p["weight"].astype(np.float64) @ x + p["bias"]
            elif t == "Conv2d":
                w = p["weight"].astype(np.float64)
                ph, pw = p["padding"]
                sh, sw = p["stride"]
                xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
                kh, kw = w.shape[2:]
                oh = (xp.shape[1] - kh) // sh + 1
                ow = (xp.shape[2] - kw) // sw + 1
                y = np.zeros((w.shape[0], oh, ow)) + p["bias"][:, None, None]
                for ky in range(kh):
                    for kx in range(kw):
                        patch = xp[:, ky : ky + sh * (oh - 1) + 1 : sh, kx : kx + sw * (ow - 1) + 1 : sw]
                        y += np.einsum("oc,chw->ohw", w[:, :, ky, kx], patch)
                x = y
            elif t == "SumPool2d":
                kh, kw = p["kernel_size"]
                ph, pw = p["padding"]
                sh, sw = p["stride"]
                xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
                oh = (xp.shape[1] - kh) // sh + 1
                ow = (xp.shape[2] - kw) // sw + 1
                y = np.zeros((x.shape[0], oh, ow))
                for ky in range(kh):
                    for kx in range(kw):
                        y += xp[:, ky : ky + sh * (oh - 1) + 1 : sh, kx : kx + sw * (ow - 1) + 1 : sw]
                x = y
            elif t == "Flatten":
                x = x.reshape(-1)
            elif t == "Threshold":
                x = (x > p["threshold"]).astype(np.float64)
            elif t == "IF":
                # One step from rest: v = 0 + r * I (R*dt = 1), fire iff v > v_threshold.
                v = p["r"] * x
                x = (v > p["v_threshold"]).astype(np.float64)
        scores = ((2 * key - 1) * (2 * x - 1)).sum(axis=1)
        predictions.append(int(np.argmax(scores)))
    json.dump({"errors": errors, "predictions": predictions, "order": order, "types": [nodes[n][0] for n in order], "version": text(f["version"])}, sys.stdout)


main()
