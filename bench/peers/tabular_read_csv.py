"""pandas' side of the tabular benchmark (bench/TabularBench.ps1): the same CSV file read with pandas.read_csv,
its category column one-hot encoded and its feature columns made one float32 torch tensor, as Isaacai's
ConvertTo-IsaacDataset -Path makes its inputs. Prints one JSON line: seconds, CPU seconds, and peak resident memory above
what the process held after its imports.

Run with Debian's python3-pandas and python3-torch; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
"""
import argparse, json, resource, time

import pandas as pd
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--path", required=True)
parser.add_argument("--target", default="label")
args = parser.parse_args()

torch.set_num_threads(1)
baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
start_cpu = time.process_time()
frame = pd.read_csv(args.path)
features = pd.get_dummies(frame.drop(columns=[args.target]), dtype="float32")
x = torch.tensor(features.to_numpy(dtype="float32"))
y = torch.tensor(frame[args.target].to_numpy())
seconds = time.perf_counter() - start
cpu_seconds = time.process_time() - start_cpu
peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kb) / 1024
print(json.dumps({"side": "pandas", "version": pd.__version__, "rows": int(x.shape[0]), "inputs": int(x.shape[1]),
                  "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb}))
