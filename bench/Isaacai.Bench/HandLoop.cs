using Isaacai.Data;
using static TorchSharp.torch;

namespace Isaacai.Bench;

/// <summary>
/// The baseline: the same training a plain TorchSharp user would write by hand, with no callbacks:
/// shuffle, forward, loss, backward, step, zero_grad; then a valid pass for loss and accuracy.
/// </summary>
public static class HandLoop
{
    public static void Fit(nn.Module<Tensor, Tensor> model, DatasetDict data, int batchSize, int epochs, double lr)
    {
        var (train, valid) = ((TensorDataset)data["train"], (TensorDataset)data["test"]);
        using var loss = nn.CrossEntropyLoss();
        using var opt = optim.Adam(model.parameters(), lr);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            model.train();
            using (var permutation = randperm(train.Count))
            {
                for (long start = 0; start < train.Count; start += batchSize)
                {
                    using var scope = NewDisposeScope();
                    var indices = permutation.narrow(0, start, Math.Min(batchSize, train.Count - start));
                    var x = train.X.index_select(0, indices);
                    var y = train.Y.index_select(0, indices);
                    var output = loss.call(model.call(x), y);
                    output.backward();
                    opt.step();
                    opt.zero_grad();
                }
            }
            model.eval();
            using (no_grad())
            {
                double lossSum = 0;
                long correct = 0;
                for (long start = 0; start < valid.Count; start += batchSize)
                {
                    using var scope = NewDisposeScope();
                    long length = Math.Min(batchSize, valid.Count - start);
                    var x = valid.X.narrow(0, start, length);
                    var y = valid.Y.narrow(0, start, length);
                    var preds = model.call(x);
                    lossSum += loss.call(preds, y).item<float>() * length;
                    correct += preds.argmax(1).eq(y).sum().item<long>();
                }
                GC.KeepAlive((lossSum / valid.Count, (double)correct / valid.Count));
            }
        }
    }
}
