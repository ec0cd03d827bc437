"""PyTorch's side of the ConvNet job (bench/PeerBench.ps1 -Case convnet): New-IsaacConvNet's default architecture
(stride-2 conv → batch norm → ReLU blocks of 8, 16, 32, 64 channels, a stride-2 conv to 10 classes, average pool,
flatten) trained on Fashion-MNIST for one epoch (shuffled, batch 64, Adam 1e-3, cross-entropy) and validated on the
test set, torch at one thread, the data normalised as Isaacai's loader does ((x/255 - 0.28)/0.35). Reads the IDX
files Isaacai keeps in its cache. Prints one JSON line: the fit's seconds and the valid accuracy.

Run with Debian's python3-torch; libopenblas0-pthread installed, OPENBLAS_CORETYPE unset.
"""
import argparse, gzip, json, os, time

import numpy as np
import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=os.path.expanduser("~/.cache/isaacai/fashion-mnist"))
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()


def idx(name):
    path = os.path.join(args.data, name)
    opener = gzip.open if os.path.exists(path + ".gz") else open
    with opener(path + ".gz" if os.path.exists(path + ".gz") else path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def split(images, labels):
    x = torch.from_numpy(idx(images).copy()).float().div_(255).sub_(0.28).div_(0.35).unsqueeze(1)
    return x, torch.from_numpy(idx(labels).astype(np.int64))


torch.set_num_threads(1)
torch.manual_seed(args.seed)
train_x, train_y = split("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
valid_x, valid_y = split("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


model = nn.Sequential(block(1, 8), block(8, 16), block(16, 32), block(32, 64),
                      nn.Conv2d(64, 10, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_func = nn.CrossEntropyLoss()

start = time.perf_counter()
model.train()
order = torch.randperm(len(train_x))
for first in range(0, len(train_x), 64):
    batch = order[first:first + 64]
    loss = loss_func(model(train_x[batch]), train_y[batch])
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
model.eval()
correct = 0
with torch.no_grad():
    for first in range(0, len(valid_x), 64):
        correct += (model(valid_x[first:first + 64]).argmax(1) == valid_y[first:first + 64]).sum().item()
seconds = time.perf_counter() - start
print(json.dumps({"side": "pytorch", "version": torch.__version__, "seconds": seconds, "accuracy": correct / len(valid_x)}))
