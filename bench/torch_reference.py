"""PyTorch CPU reference for `npm run bench:train` (bench/train.ts).

Reads one JSON command per line on stdin and answers each with one JSON line on stdout:

  {"cmd": "load", "id": ..., "spec": {...}, "batch": N, "x": "file.f32", "labels": "file.u8"}
      builds the network the spec describes (bench/networks.ts writes it from the tfjs model)
      and keeps the batch (NHWC float32 images, uint8 labels).
  {"cmd": "time", "id": ..., "threads": T, "steps": S}
      trains S steps on that batch with T intra-op threads; answers {"seconds": ...}.
  {"cmd": "warm", "id": ..., "threads": T, "steps": S}  same, for warming up.

The network mirrors the tfjs one layer by layer: same layer sizes, activations (the spiking
activations computed the way src/model/layers/spiking.ts computes them), n-hot decoding,
categorical cross-entropy on probabilities as tfjs-layers computes it, and the same optimizer
(torch's Adadelta is Zeiler's/Keras's form, as src/train/adadelta.ts).
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EPSILON = 1e-7  # tfjs-layers' epsilon() for the cross-entropy clip


class SpikingBRelu(nn.Module):
    def __init__(self, sharpness):
        super().__init__()
        self.sharpness = float(sharpness)

    def forward(self, x):
        if self.sharpness >= 1:
            return (x >= 0.5).float()
        width = 1 - self.sharpness + 0.001
        return torch.clamp((x - 0.5) / width + 0.5, 0, 1)


class SpikingSigmoid(nn.Module):
    K = 4 * np.log(2 + np.sqrt(3))

    def __init__(self, sharpness):
        super().__init__()
        self.sharpness = float(sharpness)

    def forward(self, x):
        if self.sharpness >= 1:
            return (x >= 0).float()
        width = 1 - self.sharpness + 0.001
        return torch.sigmoid(torch.clamp(self.K / width * x, -60, 60))


class SpikeEncoder(nn.Module):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def forward(self, x):
        return (x >= self.threshold).float()


class SoftmaxDecode(nn.Module):
    def __init__(self, key):
        super().__init__()
        k = torch.tensor(key, dtype=torch.float32)
        self.register_buffer("signed_key_t", (2 * k - 1).t().contiguous())

    def forward(self, s):
        return torch.softmax((2 * s - 1) @ self.signed_key_t, dim=-1)


class Activation(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, x):
        if self.name == "relu":
            return F.relu(x)
        if self.name == "softmax":
            return torch.softmax(x, dim=-1)
        if self.name == "sigmoid":
            return torch.sigmoid(x)
        raise ValueError(f"activation {self.name}")


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def build(spec):
    h, w, c = spec["input"]
    shape = (c, h, w)  # NCHW, or (features,) after flatten
    layers = []
    for layer in spec["layers"]:
        t = layer["type"]
        if t == "spike_encoder":
            layers.append(SpikeEncoder(layer["threshold"]))
        elif t == "conv2d":
            kh, kw = pair(layer["kernel"])
            sh, sw = pair(layer["strides"])
            if layer["padding"] == "same":
                if (sh, sw) != (1, 1):
                    raise ValueError("same padding with strides is not mirrored")
                pad = "same"
                oh, ow = shape[1], shape[2]
            else:
                pad = 0
                oh, ow = (shape[1] - kh) // sh + 1, (shape[2] - kw) // sw + 1
            layers.append(nn.Conv2d(shape[0], layer["filters"], (kh, kw), (sh, sw), padding=pad, bias=layer["bias"]))
            shape = (layer["filters"], oh, ow)
        elif t in ("max_pool2d", "avg_pool2d"):
            ph, pw = pair(layer["pool"])
            sh, sw = pair(layer["strides"])
            if layer["padding"] != "valid":
                raise ValueError("same pooling is not mirrored")
            cls = nn.MaxPool2d if t == "max_pool2d" else nn.AvgPool2d
            layers.append(cls((ph, pw), (sh, sw)))
            shape = (shape[0], (shape[1] - ph) // sh + 1, (shape[2] - pw) // sw + 1)
        elif t == "flatten":
            layers.append(nn.Flatten())
            shape = (int(np.prod(shape)),)
        elif t == "dense":
            layers.append(nn.Linear(shape[0], layer["units"], bias=layer["bias"]))
            shape = (layer["units"],)
        elif t == "batch_norm":
            cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            # Keras momentum m keeps m of the old statistic; torch's momentum is the new share.
            layers.append(cls(shape[0], eps=layer["epsilon"], momentum=1 - layer["momentum"]))
        elif t == "dropout":
            layers.append(nn.Dropout(layer["rate"]))
        elif t == "spiking_brelu":
            layers.append(SpikingBRelu(layer["sharpness"]))
        elif t == "spiking_sigmoid":
            layers.append(SpikingSigmoid(layer["sharpness"]))
        elif t == "softmax_decode":
            layers.append(SoftmaxDecode(layer["key"]))
            shape = (len(layer["key"]),)
        else:
            raise ValueError(f"layer {t}")
        if t in ("conv2d", "dense") and layer.get("activation", "linear") != "linear":
            layers.append(Activation(layer["activation"]))
    return nn.Sequential(*layers)


def optimizer_for(spec, params):
    name, lr = spec["optimizer"]["name"], spec["optimizer"]["lr"]
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=EPSILON)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=EPSILON)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=EPSILON)
    raise ValueError(f"optimizer {name}")


def main():
    nets = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd["cmd"] == "load":
            spec = cmd["spec"]
            torch.manual_seed(1)
            model = build(spec)
            model.train()
            h, w, c = spec["input"]
            n = cmd["batch"]
            x = torch.from_numpy(np.fromfile(cmd["x"], dtype=np.float32).reshape(n, h, w, c)).permute(0, 3, 1, 2).contiguous()
            labels = torch.from_numpy(np.fromfile(cmd["labels"], dtype=np.uint8).astype(np.int64))
            y = F.one_hot(labels, cmd["classes"]).float()
            nets[cmd["id"]] = (model, optimizer_for(spec, model.parameters()), x, y)
            print(json.dumps({"ok": True, "torch": torch.__version__, "parameters": sum(p.numel() for p in model.parameters())}), flush=True)
        elif cmd["cmd"] in ("time", "warm"):
            model, opt, x, y = nets[cmd["id"]]
            torch.set_num_threads(cmd["threads"])
            start = time.perf_counter()
            for _ in range(cmd["steps"]):
                opt.zero_grad(set_to_none=True)
                p = model(x)
                p = p / p.sum(-1, keepdim=True)
                loss = -(y * torch.log(torch.clamp(p, EPSILON, 1 - EPSILON))).sum(-1).mean()
                loss.backward()
                opt.step()
            float(loss)
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        else:
            raise ValueError(f"command {cmd['cmd']}")


if __name__ == "__main__":
    main()
