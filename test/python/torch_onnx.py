"""Builds a small PyTorch network, trains it briefly, exports it with torch.onnx.export, checks the
file with onnx.checker, and prints the network's logits on the test images (the reference the
ONNX import must reproduce).

usage: torch_onnx.py KIND DATA_DIR OUT.onnx [--steps N] [--external] [--keep-bn]
  KIND      mlp (flatten, linear 64, relu, dropout, linear 10),
            cnn (conv 3x3 pad 1, batch norm, relu, max pool 2, conv 4x4 stride 2 pad 1, relu,
                 view(n, -1), linear 32, relu, linear 10) or
            mix (conv 5x5 pad 2, relu6, average pool 2, flatten, batch norm 1-d, matmul + add 20,
                 sigmoid, linear 10, softmax: the other ops, in an order sharpen then refuses)
  DATA_DIR  train_x.npy (float32 N×1×28×28 in [0, 1]), train_y.npy (int32), test_x.npy
  --external  store the weights in OUT.onnx.data beside the model (ONNX external data)
  --keep-bn   export with TrainingMode.PRESERVE so BatchNormalization stays a node
              (the default eval export folds it into the convolution)
prints JSON: {"logits": [[...], ...], "train_accuracy": a, "opset": n, "ops": [...]}
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)

args = sys.argv[1:]
kind, data_dir, out = args[0], args[1], args[2]
steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 300


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.drop = nn.Dropout(0.1)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(torch.flatten(x, 1)))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 12, 4, stride=2, padding=1)
        self.fc1 = nn.Linear(12 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.conv2(x))
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


class Mix(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 5, padding=2)
        self.pool = nn.AvgPool2d(2)
        self.bn = nn.BatchNorm1d(4 * 14 * 14)
        self.w = nn.Parameter(torch.randn(4 * 14 * 14, 20) * 0.05)
        self.b = nn.Parameter(torch.zeros(20))
        self.fc = nn.Linear(20, 10)

    def forward(self, x):
        x = self.bn(torch.flatten(self.pool(nn.functional.relu6(self.conv(x))), 1))
        return torch.softmax(self.fc(torch.sigmoid(torch.matmul(x, self.w) + self.b)), dim=1)


train_x = torch.from_numpy(np.load(os.path.join(data_dir, "train_x.npy")))
train_y = torch.from_numpy(np.load(os.path.join(data_dir, "train_y.npy")).astype(np.int64))
test_x = torch.from_numpy(np.load(os.path.join(data_dir, "test_x.npy")))

model = {"mlp": Mlp, "cnn": Cnn, "mix": Mix}[kind]()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
# The mix network ends in a softmax: train it on the log of its probabilities.
loss_fn = nn.NLLLoss() if kind == "mix" else nn.CrossEntropyLoss()
if kind == "mix":
    forward = model.forward
    model_loss = lambda xb, yb: loss_fn(torch.log(forward(xb) + 1e-9), yb)
else:
    model_loss = lambda xb, yb: loss_fn(model(xb), yb)
model.train()
batch = 64
for step in range(steps):
    i = (step * batch) % max(1, len(train_x) - batch)
    xb, yb = train_x[i : i + batch], train_y[i : i + batch]
    optimizer.zero_grad()
    model_loss(xb, yb).backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    train_accuracy = float((model(train_x).argmax(1) == train_y).float().mean())
    logits = model(test_x).numpy()

training = torch.onnx.TrainingMode.PRESERVE if "--keep-bn" in args else torch.onnx.TrainingMode.EVAL
torch.onnx.export(
    model,
    torch.zeros(1, 1, 28, 28),
    out,
    input_names=["image"],
    output_names=["logits"],
    dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
    training=training,
)
exported = onnx.load(out)
onnx.checker.check_model(exported)
if "--external" in args:
    onnx.save_model(exported, out, save_as_external_data=True, all_tensors_to_one_file=True, location=os.path.basename(out) + ".data", size_threshold=0)
    onnx.checker.check_model(out)

print(
    json.dumps(
        {
            "logits": logits.tolist(),
            "train_accuracy": train_accuracy,
            "opset": exported.opset_import[0].version,
            "ops": [n.op_type for n in exported.graph.node],
        }
    )
)
