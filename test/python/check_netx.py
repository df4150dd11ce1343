"""Checks a lava-dl netx file's layout (as lava/lib/dl/netx/hdf5.py reads it) against the export's
connection lists, and runs an integer forward pass with Loihi's rule (fire iff v > vth).

usage: check_netx.py export_dir
prints JSON: {"errors": [...], "predictions": [...], "layers": [...]}
"""
import json
import os
import sys

import h5py
import numpy as np

errors = []
NEURON = {"type", "iDecay", "vDecay", "vThMant", "refDelay"}
FIELDS = {
    "input": {"type", "shape", "neuron"},
    "flatten": {"type", "shape"},
    "dense": {"type", "shape", "weight", "bias", "neuron"},
    "conv": {"type", "shape", "weight", "bias", "stride", "padding", "dilation", "groups", "neuron"},
}


def main():
    d = sys.argv[1]
    f = h5py.File(os.path.join(d, "network.net"), "r")
    layers = f["layer"]
    names = sorted(layers.keys(), key=int)
    if names != [str(i) for i in range(len(names))]:
        errors.append("layer groups are not 0..n-1: %s" % names)
    info = []
    neuron_layers = []
    for name in names:
        g = layers[name]
        t = g["type"][()].decode("ascii")
        if set(g.keys()) != FIELDS.get(t, set()):
            errors.append("layer %s (%s): fields %s" % (name, t, sorted(g.keys())))
        if "neuron" in g:
            n = g["neuron"]
            if set(n.keys()) != NEURON:
                errors.append("layer %s neuron fields %s" % (name, sorted(n.keys())))
            if n["type"][()].decode("ascii") != "CUBA" or int(n["iDecay"][()]) != 4096 or int(n["vDecay"][()]) != 4096:
                errors.append("layer %s neuron is not a memoryless CUBA" % name)
        entry = {"type": t, "shape": [int(v) for v in g["shape"][()]]}
        if t in ("dense", "conv"):
            w = g["weight"][()]
            if not np.array_equal(w, np.round(w)) or np.any(w % 2 != 0) or np.abs(w).max() > 254:
                errors.append("layer %s: weights are not even integers within [-254, 254]" % name)
            entry["weight_shape"] = list(w.shape)
            entry["vThMant"] = int(g["neuron"]["vThMant"][()])
            if t == "conv":
                entry["stride"] = [int(v) for v in g["stride"][()]]
                entry["padding"] = [int(v) for v in g["padding"][()]]
            neuron_layers.append((g, t))
        info.append(entry)

    inputs = np.load(os.path.join(d, "inputs.npy")).astype(np.int64)
    key = np.load(os.path.join(d, "key.npy")).astype(int)
    mats = []
    for k, (g, t) in enumerate(neuron_layers):
        rows = np.load(os.path.join(d, "layer%d_connections.npy" % (k + 1))).astype(np.int64)
        bias = np.load(os.path.join(d, "layer%d_bias.npy" % (k + 1))).astype(np.int64)
        n_in = int(rows[:, 0].max()) + 1 if len(rows) else 0
        w = g["weight"][()]
        if t == "dense":
            # The netx matrix and the connection list must be the same synapses.
            listed = np.zeros_like(w)
            listed[rows[:, 1], rows[:, 0]] = rows[:, 2]
            if not np.array_equal(listed, w):
                errors.append("dense layer %d: netx weights differ from the connection list" % (k + 1))
            n_in = w.shape[1]
        mats.append((rows, bias, int(g["neuron"]["vThMant"][()]), len(bias)))
    predictions = []
    for x in inputs:
        s = x
        for rows, bias, vth, n in mats:
            v = bias.copy()
            np.add.at(v, rows[:, 1], rows[:, 2] * s[rows[:, 0]])
            s = (v > vth).astype(np.int64)
        scores = ((2 * key - 1) * (2 * s - 1)).sum(axis=1)
        predictions.append(int(np.argmax(scores)))
    json.dump({"errors": errors, "predictions": predictions, "layers": info}, sys.stdout)


main()
