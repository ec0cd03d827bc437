using System.Buffers.Binary;
using static TorchSharp.torch;

namespace Isaacai.Checkpoints;

/// <summary>
/// Checks a CPU random generator state before libtorch sees it. libtorch refuses a bad state with a C++
/// exception that TorchSharp does not catch, which aborts the whole process (pwsh included); so every check
/// libtorch's <c>CPUGeneratorImpl::set_state</c> makes is made here first, with an error that names the file.
/// </summary>
internal static class GeneratorState
{
    // libtorch's CPUGeneratorImplState: the legacy POD (initial seed u64, left i32, seeded i32, next u64,
    // 624 × u64 Mersenne state, three doubles, an int flag: 5048 bytes) then a float and a flag, padded to 5056.
    private const int LegacySize = 5048, CurrentSize = 5056, MersenneStateN = 624;
    private const int LeftOffset = 8, SeededOffset = 12, NextOffset = 16;

    /// <summary>Throws <see cref="InvalidDataException"/> unless <paramref name="state"/> is one libtorch accepts.</summary>
    public static void Validate(Tensor state, string source)
    {
        if (state.dtype != ScalarType.Byte || state.dim() != 1)
            throw new InvalidDataException($"{source}: the random generator state is {state.dtype} [{string.Join(", ", state.shape)}]; it must be a 1-D tensor of bytes (uint8).");
        if (state.shape[0] is not (LegacySize or CurrentSize))
            throw new InvalidDataException($"{source}: the random generator state holds {state.shape[0]} bytes; libtorch's CPU generator state is {CurrentSize} bytes ({LegacySize} in its legacy form).");
        var bytes = state.cpu().data<byte>().ToArray();
        int left = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(LeftOffset));
        int seeded = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(SeededOffset));
        uint next = (uint)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(NextOffset)); // libtorch keeps its low 32 bits
        if (seeded == 0 || left is <= 0 or > MersenneStateN || next > MersenneStateN)
            throw new InvalidDataException($"{source}: the random generator state is not a valid Mersenne Twister state (seeded {seeded}, left {left}, next {next}; libtorch needs seeded, left in 1..{MersenneStateN} and next at most {MersenneStateN}).");
    }
}
