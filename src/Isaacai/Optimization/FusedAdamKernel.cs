using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Isaacai.Runtime;
using static TorchSharp.torch;

namespace Isaacai.Optimization;

/// <summary>
/// Adam's and AdamW's update for a flat float32 group on the CPU in one pass over the memory, as PyTorch 2's
/// <c>fused=True</c> Adam does: each element is read and written once instead of once per operation, and no
/// group-sized temporary is made. The arithmetic is <see cref="AdamUpdate"/>'s, rounding for rounding: the same float
/// scalars, the fused multiply-adds where libtorch's vectorised kernels use them (<c>add_</c> with alpha,
/// <c>addcmul_</c>), <c>addcdiv_</c>'s order (value × t1, then ÷ t2), and the square root libtorch's <c>sqrt</c> takes
/// from MKL (<c>vmsSqrt</c>, which is not exactly rounded: reproduced here where a check at start-up finds it equal,
/// else called a cache-sized chunk at a time); so the weights equal TorchSharp's Adam bit for bit (tests). Where
/// libtorch has no such routine, the flat group steps by operations. It writes through the tensors' memory, so
/// libtorch's version counters do not move: as with PyTorch's fused optimizers, step after backward, not between a
/// forward and its backward.
/// </summary>
internal static unsafe class FusedAdamKernel
{
    /// <summary>Groups this large are split across libtorch's thread count, when above one.</summary>
    private const int ParallelFrom = 1 << 18;

    /// <summary>
    /// Elements a chunk: the moments, the roots and the weights are updated a chunk at a time, so the second pass finds
    /// the chunk still in the second-level cache (16,384 floats of each array: 64 KB).
    /// </summary>
    private const int Chunk = 16384;

    // MKL's VML mode bits as libtorch passes them (ATen/cpu/vml.h): high accuracy, denormals kept, errors ignored.
    private const long VmlMode = 0x2 | 0x140000 | 0x100;

    private static readonly delegate* unmanaged<int, float*, float*, long, void> VmlSqrt =
        TorchRuntime.TryGetLibTorchExport("vmsSqrt", out var export) ? (delegate* unmanaged<int, float*, float*, long, void>)export : null;

    /// <summary>What the fused step needs of the machine: MKL's root in libtorch, and AVX2 with FMA.</summary>
    private static readonly bool Available = VmlSqrt != null && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Whether <see cref="RootVectorised"/> gives MKL's square roots bit for bit on this CPU, checked once on values
    /// across the float range: MKL picks its kernel by CPU, and the kernel's first estimate is the CPU's own
    /// <c>rsqrtps</c>. Where it does not, each chunk's roots come from MKL itself (a call per chunk, slower).
    /// </summary>
    private static readonly bool RootsMatchMkl = Available && CheckRoots();

    /// <summary>Whether <paramref name="data"/> (with its gradient and state buffers, laid out alike) can take the fused step.</summary>
    public static bool Supports(Tensor data) =>
        Available && data.device_type == TorchSharp.DeviceType.CPU && data.dtype == ScalarType.Float32 && data.is_contiguous() && data.numel() <= int.MaxValue;

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
        int share = (count / threads + Chunk - 1) / Chunk * Chunk; // whole chunks per thread
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int start = t * share;
            if (start < count) Run(memory, constants, start, Math.Min(count, start + share));
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

    private static void Run(in Memory m, in Constants c, int start, int end)
    {
        float* root = stackalloc float[Chunk];
        for (int first = start; first < end; first += Chunk)
        {
            int last = Math.Min(end, first + Chunk);
            int i = first;
            for (; i + 8 <= last; i += 8) MomentsVectorised(m, c, i);
            for (; i < last; i++) Moments(m, c, i);
            float* second = m.MaxExpAvgSq != null ? m.MaxExpAvgSq : m.ExpAvgSq;
            if (RootsMatchMkl) Roots(second + first, root, last - first);
            else VmlSqrt(last - first, second + first, root, VmlMode);
            i = first;
            for (; i + 8 <= last; i += 8) WeightsVectorised(m, c, i, root + (i - first));
            for (; i < last; i++) Weights(m, c, i, root[i - first]);
        }
    }

    // The gradient as the update sees it: negated to maximize, plus Adam's L2 term (grad.add(weights, alpha: wd)).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Gradient(in Memory m, in Constants c, int i)
    {
        var g = Avx.LoadVector256(m.Grad + i);
        if (c.Maximize) g = Avx.Xor(g, Vector256.Create(-0f));
        if (c.L2 != 0) g = Fma.MultiplyAdd(Avx.LoadVector256(m.Weights + i), Vector256.Create(c.L2), g);
        return g;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MomentsVectorised(in Memory m, in Constants c, int i)
    {
        var g = Gradient(m, c, i);
        var expAvg = Fma.MultiplyAdd(g, Vector256.Create(c.OneMinusBeta1), Avx.Multiply(Avx.LoadVector256(m.ExpAvg + i), Vector256.Create(c.Beta1)));
        var expAvgSq = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(c.OneMinusBeta2), g), g, Avx.Multiply(Avx.LoadVector256(m.ExpAvgSq + i), Vector256.Create(c.Beta2)));
        Avx.Store(m.ExpAvg + i, expAvg);
        Avx.Store(m.ExpAvgSq + i, expAvgSq);
        if (m.MaxExpAvgSq != null) Avx.Store(m.MaxExpAvgSq + i, Avx.Max(Avx.LoadVector256(m.MaxExpAvgSq + i), expAvgSq));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightsVectorised(in Memory m, in Constants c, int i, float* root)
    {
        var w = Avx.LoadVector256(m.Weights + i);
        if (c.DecayFactor != 1) w = Avx.Multiply(w, Vector256.Create(c.DecayFactor));
        var denominator = Avx.Add(Avx.Divide(Avx.LoadVector256(root), Vector256.Create(c.BiasCorrection2Root)), Vector256.Create(c.Eps));
        var update = Avx.Divide(Avx.Multiply(Vector256.Create(c.StepSize), Avx.LoadVector256(m.ExpAvg + i)), denominator);
        Avx.Store(m.Weights + i, Avx.Add(w, update));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Moments(in Memory m, in Constants c, int i)
    {
        float g = m.Grad[i];
        if (c.Maximize) g = -g;
        if (c.L2 != 0) g = MathF.FusedMultiplyAdd(m.Weights[i], c.L2, g);
        float expAvgSq = MathF.FusedMultiplyAdd(c.OneMinusBeta2 * g, g, m.ExpAvgSq[i] * c.Beta2);
        m.ExpAvg[i] = MathF.FusedMultiplyAdd(g, c.OneMinusBeta1, m.ExpAvg[i] * c.Beta1);
        m.ExpAvgSq[i] = expAvgSq;
        if (m.MaxExpAvgSq != null) m.MaxExpAvgSq[i] = MathF.Max(m.MaxExpAvgSq[i], expAvgSq);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Weights(in Memory m, in Constants c, int i, float root)
    {
        float w = m.Weights[i];
        if (c.DecayFactor != 1) w *= c.DecayFactor;
        m.Weights[i] = w + c.StepSize * m.ExpAvg[i] / (root / c.BiasCorrection2Root + c.Eps);
    }

    private static void Roots(float* values, float* roots, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Avx.Store(roots + i, RootVectorised(Avx.LoadVector256(values + i)));
        if (i == count) return;
        var last = stackalloc float[8];
        for (int k = 0; k < 8; k++) last[k] = i + k < count ? values[i + k] : 1f;
        var tail = RootVectorised(Avx.LoadVector256(last));
        for (int k = 0; i + k < count; k++) roots[i + k] = tail.GetElement(k);
    }

    /// <summary>
    /// MKL's single-precision square root as its SSE kernel computes it for normal positive floats: the CPU's
    /// reciprocal root estimate, then two refinements, each product and sum rounded on its own; zero, denormals,
    /// values near the largest float, infinities, negatives and NaN take the exactly rounded root, as its rare path does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RootVectorised(Vector256<float> x)
    {
        var half = Vector256.Create(0.5f);
        var r = Avx.ReciprocalSqrt(x);
        var y = Avx.Multiply(x, r);
        var h = Avx.Multiply(r, half);
        var e = Avx.Subtract(half, Avx.Multiply(y, h));
        var y1 = Avx.Add(Avx.Multiply(y, e), y);
        var h1 = Avx.Add(Avx.Multiply(h, e), h);
        var d = Avx.Subtract(x, Avx.Multiply(y1, y1));
        var refined = Avx.Add(Avx.Multiply(d, h1), y1);
        // MKL's test for the fast path, on the bits: (bits + 0x7f800000) > 0xfefff000 as signed integers means rare.
        var rare = Avx2.CompareGreaterThan(Avx2.Add(x.AsInt32(), Vector256.Create(0x7f800000)), Vector256.Create(unchecked((int)0xfefff000)));
        return Avx.BlendVariable(refined, Avx.Sqrt(x), rare.AsSingle());
    }

    private static bool CheckRoots()
    {
        const int count = 1 << 16;
        var values = new float[count];
        var random = new Random(7);
        for (int i = 0; i < count; i++)
            values[i] = (i % 64) switch
            {
                0 => 0f,
                1 => BitConverter.Int32BitsToSingle(random.Next(1, 0x00800000)),          // denormal
                2 => BitConverter.Int32BitsToSingle(random.Next(0x7f7fe000, 0x7f800000)), // near the largest float
                _ => BitConverter.Int32BitsToSingle(random.Next(0x00800000, 0x7f800000)), // normal
            };
        var (mkl, ours) = (new float[count], new float[count]);
        fixed (float* v = values, a = mkl, b = ours)
        {
            VmlSqrt(count, v, a, VmlMode);
            Roots(v, b, count);
        }
        return mkl.AsSpan().SequenceEqual(ours);
    }
}
