using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// Adam's and AdamW's update for a flat float32 group on the CPU in one pass over the memory, as PyTorch 2's
/// <c>fused=True</c> Adam does: each element is read and written once instead of once per operation, and no
/// temporary is made. The arithmetic follows <see cref="AdamUpdate"/>'s operations in their order and precision
/// (float scalars, the fused multiply-adds where libtorch's vectorised kernels use them), so the result agrees with
/// TorchSharp's Adam to float rounding. It writes through the tensors' memory, so libtorch's version counters do not
/// move: as with PyTorch's fused optimizers, step after backward, not between a forward and its backward.
/// </summary>
internal static unsafe class FusedAdamKernel
{
    /// <summary>Groups this large are split across libtorch's thread count, when above one.</summary>
    private const int ParallelFrom = 1 << 18;

    /// <summary>Whether <paramref name="data"/> (with its gradient and state buffers, laid out alike) can take the fused step.</summary>
    public static bool Supports(Tensor data) =>
        data.device_type == TorchSharp.DeviceType.CPU && data.dtype == ScalarType.Float32 && data.is_contiguous() && data.numel() <= int.MaxValue;

    public static void Apply(Tensor weights, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, long step, AdamSettings s, bool decoupledWeightDecay)
    {
        double biasCorrection1 = 1 - Math.Pow(s.Beta1, step), biasCorrection2 = 1 - Math.Pow(s.Beta2, step);
        var constants = new Constants
        {
            Beta1 = (float)s.Beta1, OneMinusBeta1 = (float)(1 - s.Beta1), Beta2 = (float)s.Beta2, OneMinusBeta2 = (float)(1 - s.Beta2),
            Eps = (float)s.Eps, BiasCorrection2Root = (float)Math.Sqrt(biasCorrection2), StepSize = (float)(-(s.Lr / biasCorrection1)),
            L2 = !decoupledWeightDecay && s.WeightDecay != 0 ? (float)s.WeightDecay : 0f,
            DecayFactor = decoupledWeightDecay && s.WeightDecay != 0 ? (float)(1 - s.Lr * s.WeightDecay) : 1f,
            Maximize = s.Maximize,
        };
        var memory = new Memory
        {
            Weights = (float*)NativeGradients.AddressOf(weights), Grad = (float*)NativeGradients.AddressOf(grad),
            ExpAvg = (float*)NativeGradients.AddressOf(expAvg), ExpAvgSq = (float*)NativeGradients.AddressOf(expAvgSq),
            MaxExpAvgSq = maxExpAvgSq is null ? null : (float*)NativeGradients.AddressOf(maxExpAvgSq),
        };
        int count = (int)weights.numel(), threads = get_num_threads();
        if (threads <= 1 || count < ParallelFrom) { Run(memory, constants, 0, count); return; }
        // Chunks of whole 8-float vectors, one per thread.
        int chunk = (count / threads + 7) & ~7;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int start = t * chunk;
            if (start < count) Run(memory, constants, start, Math.Min(count, start + chunk));
        });
    }

    private struct Memory
    {
        public float* Weights, Grad, ExpAvg, ExpAvgSq, MaxExpAvgSq;
    }

    private struct Constants
    {
        public float Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, Eps, BiasCorrection2Root, StepSize, L2, DecayFactor;
        public bool Maximize;
    }

    private static void Run(Memory m, Constants c, int start, int end)
    {
        int i = start;
        if (Avx2.IsSupported && Fma.IsSupported)
            for (; i + 8 <= end; i += 8) Vectorised(m, c, i);
        for (; i < end; i++) Scalar(m, c, i);
    }

    private static void Vectorised(Memory m, Constants c, int i)
    {
        var g = Avx.LoadVector256(m.Grad + i);
        var w = Avx.LoadVector256(m.Weights + i);
        if (c.Maximize) g = Avx.Xor(g, Vector256.Create(-0f));                                 // grad.neg()
        if (c.L2 != 0) g = Fma.MultiplyAdd(w, Vector256.Create(c.L2), g);                   // grad.add(weights, alpha: wd)
        if (c.DecayFactor != 1) w = Avx.Multiply(w, Vector256.Create(c.DecayFactor));       // weights.mul_(1 - lr·wd)

        var expAvg = Avx.Multiply(Avx.LoadVector256(m.ExpAvg + i), Vector256.Create(c.Beta1));
        expAvg = Fma.MultiplyAdd(g, Vector256.Create(c.OneMinusBeta1), expAvg);             // .add_(grad, alpha: 1 - β1)
        var expAvgSq = Avx.Multiply(Avx.LoadVector256(m.ExpAvgSq + i), Vector256.Create(c.Beta2));
        expAvgSq = Avx.Add(expAvgSq, Avx.Multiply(Avx.Multiply(Vector256.Create(c.OneMinusBeta2), g), g)); // .addcmul_(grad, grad, value: 1 - β2)
        Avx.Store(m.ExpAvg + i, expAvg);
        Avx.Store(m.ExpAvgSq + i, expAvgSq);
        var second = expAvgSq;
        if (m.MaxExpAvgSq != null)
        {
            second = Avx.Max(Avx.LoadVector256(m.MaxExpAvgSq + i), expAvgSq);
            Avx.Store(m.MaxExpAvgSq + i, second);
        }
        var denominator = Avx.Add(Avx.Divide(Avx.Sqrt(second), Vector256.Create(c.BiasCorrection2Root)), Vector256.Create(c.Eps));
        w = Avx.Add(w, Avx.Multiply(Vector256.Create(c.StepSize), Avx.Divide(expAvg, denominator))); // addcdiv_(expAvg, denominator, value: step size)
        Avx.Store(m.Weights + i, w);
    }

    private static void Scalar(Memory m, Constants c, int i)
    {
        float g = m.Grad[i], w = m.Weights[i];
        if (c.Maximize) g = -g;
        if (c.L2 != 0) g = MathF.FusedMultiplyAdd(w, c.L2, g);
        if (c.DecayFactor != 1) w *= c.DecayFactor;
        float expAvg = MathF.FusedMultiplyAdd(g, c.OneMinusBeta1, m.ExpAvg[i] * c.Beta1);
        float expAvgSq = m.ExpAvgSq[i] * c.Beta2 + c.OneMinusBeta2 * g * g;
        m.ExpAvg[i] = expAvg;
        m.ExpAvgSq[i] = expAvgSq;
        float second = expAvgSq;
        if (m.MaxExpAvgSq != null) m.MaxExpAvgSq[i] = second = MathF.Max(m.MaxExpAvgSq[i], expAvgSq);
        w += c.StepSize * (expAvg / (MathF.Sqrt(second) / c.BiasCorrection2Root + c.Eps));
        m.Weights[i] = w;
    }
}
